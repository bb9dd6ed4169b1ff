// The traffic model's roofline for a whole run: the sum over an entry point's dispatches of the bound time that
// `kiln profile` puts next to each measured dispatch (predict(...).rooflineMs on the adapter's rates). Divided by
// the measured run time it says how far the run is from what the adapter's bandwidth and compute allow, which
// the raw kiln-vs-ORT ratio cannot: two slow engines can tie. Computed the way compiler/cli/profile-command.ts
// does, so a row of bench:models and a `kiln profile` total of the same artifact agree.
import { type Stream, predict, stream, trafficRates } from '../../compiler/traffic/index.js';
import { profileForAdapter } from '../../passes/index.js';
import type { Dispatch, Manifest } from '../../runtime/plan.js';

/** The dispatch's streams: the manifest's, or (no traffic account in the manifest) each binding once, as profile does. */
const streamsOf = (d: Dispatch): Stream[] => (d.cost?.traffic ? d.cost.traffic.streams.map((s) => [...s] as Stream) : d.bindings.map((r, j) => stream(j, r.bytes)));

/**
 * Summed roofline ms of `entry`'s dispatches on the adapter described by `adapterInfo`. Both sides of a run-time
 * branch are counted (no benchmark model has one), so with branches this is an upper bound on the run's roofline.
 */
export function rooflineMs(m: Manifest, entry: string, adapterInfo: string): number {
  const ep = m.entryPoints[entry];
  if (!ep) throw new Error(`the artifact has no entry point '${entry}'`);
  const rates = trafficRates(profileForAdapter(adapterInfo));
  let total = 0;
  for (const d of ep.dispatches) {
    const kernel = m.kernels.find((k) => k.id === d.kernel);
    if (!kernel) throw new Error(`dispatch '${d.label}' names kernel ${d.kernel}, which the manifest lacks`);
    const writes = (j: number): boolean => kernel.bindings[j]?.access === 'read_write';
    total += predict(streamsOf(d), writes, d.cost?.traffic?.flops ?? d.cost?.flops ?? 0, rates).rooflineMs;
  }
  return total;
}
