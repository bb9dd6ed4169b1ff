// `kiln profile <artifact>`: each dispatch's measured time next to the traffic model's prediction for this adapter
// (compiler/traffic/) and the fraction of the roofline it reaches, with Spearman's rank correlation between the
// two. Timing uses GPU timestamp queries when the adapter offers `timestamp-query`, else one submit per dispatch
// timed on the CPU (runtime/probe.ts). Inputs not given are deterministic random values of each input's shape,
// but for a decoder's position and length (generationFeeds).
import { basename } from 'node:path';
import { profileForAdapter } from '../../passes/index.js';
import { type InputValue, Session, acquireDevice, seededRandom } from '../../runtime/index.js';
import { evalManifestDim } from '../../runtime/dims.js';
import type { Dispatch, IOTensor, Manifest } from '../../runtime/plan.js';
import { timeDispatches } from './dispatch-timing.js';
import { type Prediction, type Stream, predict, spearman, stream, trafficRates } from '../traffic/index.js';
import { UsageError } from './errors.js';
import { parseAssignments } from './files.js';
import type { Output } from './ir-commands.js';
import { readInput } from './model-commands.js';
import { preciseGpu } from './precise-gpu.js';

export interface ProfileCommandOptions {
  input?: string[];
  dim?: string[];
  runs?: string;
  entry?: string;
  json?: boolean;
}

export interface DispatchProfile {
  readonly index: number;
  readonly kernel: string;
  readonly label: string;
  readonly measuredMs: number;
  readonly predictedMs: number;
  readonly rooflineMs: number;
  /** rooflineMs / measuredMs: how close the dispatch came to the bandwidth or compute bound. */
  readonly rooflineFraction: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly flops: number;
  readonly described: boolean;
}

const median = (xs: readonly number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

/** Symbol values for the run: --dim name=value, else each symbol's lower bound. */
function symbolValues(m: Manifest, dims: readonly string[]): Map<string, number> {
  const values = new Map((m.symbols ?? []).map((s) => [s.name, s.min]));
  for (const [name, text] of parseAssignments(dims, '--dim')) {
    const s = m.symbols?.find((x) => x.name === name);
    if (!s) throw new UsageError(`--dim ${name}: the artifact has no symbolic dim '${name}' (has: ${(m.symbols ?? []).map((x) => x.name).join(', ') || 'none'})`);
    const v = Number(text);
    if (!Number.isInteger(v) || v < s.min || v > s.max) throw new UsageError(`--dim ${name}=${text}: must be an integer in ${s.min}..${s.max}, the range the artifact was compiled for`);
    values.set(name, v);
  }
  return values;
}

/** Seeded values of an input's shape: floats in [-1, 1), integers in [0, 16), booleans 0/1. */
function randomInput(t: IOTensor, shape: readonly number[], seed: number): InputValue {
  const next = seededRandom(seed);
  const count = shape.reduce((a, b) => a * b, 1);
  const float = /^(f|bf)\d+$/.test(t.dtype);
  const data = Float64Array.from({ length: count }, () => (float ? 2 * next() - 1 : t.dtype === 'bool' ? Math.round(next()) : Math.floor(16 * next())));
  return { data, shape };
}

/**
 * A decoder's position and length where not given: a decode step half way into the cache (its attention reads
 * maxSeq / 2 keys, as a step in the middle of a generation does), a prefill chunk at position 0 with every row
 * used. Random values would time a step at a position under 16 with a length its ids do not have.
 */
function generationFeeds(m: Manifest, entry: string, ids: readonly number[] | undefined): Record<string, number> {
  const g = m.generation;
  if (!g || !ids || (entry !== g.decode && entry !== g.prefill)) return {};
  const length = ids.reduce((a, b) => a * b, 1);
  const position = entry === g.decode ? Math.max(0, Math.min(Math.floor(g.maxSeq / 2), g.maxSeq - length)) : 0;
  return { [g.position]: position, [g.length]: length };
}

/** The dispatch's streams: the manifest's, or (an artifact from before the traffic model) each binding once. */
function streamsOf(d: Dispatch): Stream[] {
  return d.cost?.traffic ? d.cost.traffic.streams.map((s) => [...s] as Stream) : d.bindings.map((r, j) => stream(j, r.bytes));
}

export async function profileCommand(dir: string, opts: ProfileCommandOptions, io: Output): Promise<number> {
  const runs = Number(opts.runs ?? '5');
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs ${opts.runs}: must be a positive integer`);
  const acquired = await acquireDevice({ optionalFeatures: ['shader-f16', 'subgroups', 'timestamp-query'], bestLimits: true, gpu: await preciseGpu() });
  let session: Session | undefined;
  try {
    session = await Session.load(dir, { device: acquired });
    const m = session.manifest;
    const entry = opts.entry ?? session.mainEntry;
    const ep = m.entryPoints[entry];
    if (!ep) throw new UsageError(`--entry ${entry}: the artifact has no entry point '${entry}' (has: ${Object.keys(m.entryPoints).join(', ')})`);
    const values = symbolValues(m, opts.dim ?? []);
    const given = parseAssignments(opts.input ?? [], '--input');
    for (const name of given.keys())
      if (!ep.inputs.some((t) => t.name === name)) throw new UsageError(`--input ${name}: the model has no input '${name}' (inputs: ${ep.inputs.map((t) => t.name).join(', ')})`);
    const shapeOf = (t: IOTensor): number[] => t.shape.map((d) => evalManifestDim(d, values));
    const ids = ep.inputs.find((t) => t.name === m.generation?.ids);
    const stepValues = Object.fromEntries(Object.entries(generationFeeds(m, entry, ids && shapeOf(ids))).filter(([name]) => !given.has(name)));
    const feeds: Record<string, InputValue> = Object.fromEntries(
      ep.inputs.map((t, i) => {
        if (given.has(t.name)) return [t.name, readInput(given.get(t.name)!, t)];
        const v = stepValues[t.name];
        return [t.name, v === undefined ? randomInput(t, shapeOf(t), 1 + i) : { data: [v], shape: shapeOf(t) }];
      }),
    );
    const count = ep.dispatches.length;
    const { method, samples } = await timeDispatches(acquired, session, feeds, entry, { runs });
    const profile = profileForAdapter(acquired.adapterInfo);
    const rates = trafficRates(profile);
    const rows: DispatchProfile[] = ep.dispatches.map((d, i) => {
      const kernel = m.kernels.find((k) => k.id === d.kernel)!;
      const p: Prediction = predict(streamsOf(d), (j) => kernel.bindings[j]?.access === 'read_write', d.cost?.traffic?.flops ?? d.cost?.flops ?? 0, rates, d.cost?.traffic?.barriers);
      const measuredMs = median(samples[i]!);
      return {
        index: i,
        kernel: basename(kernel.file, '.wgsl'),
        label: d.label,
        measuredMs,
        predictedMs: p.ms,
        rooflineMs: p.rooflineMs,
        rooflineFraction: p.rooflineMs / measuredMs,
        bytesRead: p.bytesRead,
        bytesWritten: p.bytesWritten,
        flops: d.cost?.flops ?? 0,
        described: d.cost?.traffic?.described ?? false,
      };
    });
    const timed = rows.filter((r) => Number.isFinite(r.measuredMs));
    const sum = (f: (r: DispatchProfile) => number): number => timed.reduce((s, r) => s + f(r), 0);
    const total = { measuredMs: sum((r) => r.measuredMs), predictedMs: sum((r) => r.predictedMs), rooflineMs: sum((r) => r.rooflineMs) };
    const rho = spearman(timed.map((r) => r.predictedMs), timed.map((r) => r.measuredMs));
    const summary = { artifact: dir, entry, adapter: acquired.adapterInfo, method, profile: profile.name, runs, symbols: Object.fromEntries(values), step: stepValues };
    if (opts.json) {
      io.out(JSON.stringify({ ...summary, dispatches: rows, total: { ...total, rooflineFraction: total.rooflineMs / total.measuredMs }, spearman: Number.isNaN(rho) ? null : rho }));
      return 0;
    }
    const at = Object.keys(stepValues).length ? ` at ${Object.entries(stepValues).map(([n, v]) => `${n} ${v}`).join(', ')} (--input to choose)` : '';
    io.out(`${m.model.name}: entry ${entry}${at}, ${count} dispatches, median of ${runs} runs, timed by ${method === 'submit' ? 'one submit per dispatch (no timestamp-query)' : 'timestamp queries'}`);
    io.out(`adapter: ${acquired.adapterInfo}; predictions for device profile ${profile.name}`);
    const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
    const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : '-');
    const short = (s: string): string => (s.length > 72 ? `${s.slice(0, 69)}...` : s);
    io.out(['#', 'kernel', 'measured ms', 'predicted ms', 'roofline', 'node'].join('\t'));
    for (const r of rows) io.out([r.index, r.kernel + (r.described ? '' : '*'), ms(r.measuredMs), ms(r.predictedMs), pct(r.rooflineFraction), short(r.label)].join('\t'));
    io.out(['total', '', ms(total.measuredMs), ms(total.predictedMs), pct(total.rooflineMs / total.measuredMs), ''].join('\t'));
    if (rows.some((r) => !r.described)) io.out('* kernel family not described to the traffic model: each binding counted as streamed once');
    io.out(`spearman rank correlation (predicted vs measured, ${timed.length} dispatches): ${Number.isNaN(rho) ? 'undefined (fewer than two distinct times)' : rho.toFixed(3)}`);
    return 0;
  } finally {
    session?.dispose();
    acquired.release();
  }
}
