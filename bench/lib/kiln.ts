// kiln's side of a benchmark: import the ONNX model (symbolic dims bound to the inputs' sizes), compile it to an
// in-memory artifact for the local adapter's device profile, and load that into a runtime Session exactly as a
// directory would be.
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { importOnnx } from '../../ir/index.js';
import { profileForAdapter } from '../../passes/sparse/profiles.js';
import type { DeviceProfile } from '../../passes/sparse/cost-model.js';
import { acquireDevice } from '../../runtime/device.js';
import { Session } from '../../runtime/index.js';
import type { ArtifactFiles } from '../../runtime/files.js';
import { type BenchModel, symbolsFor } from './inputs.js';

/**
 * What `kiln compile` would target on the adapter this bench runs on: its device profile (`--device-profile auto`)
 * and whether it offers subgroups (`--subgroups`; the GEMVs share activation loads through them). One probe.
 */
export async function localAdapter(): Promise<{ profile: DeviceProfile; subgroups: boolean }> {
  const probe = await acquireDevice();
  try {
    return { profile: profileForAdapter(probe.adapterInfo), subgroups: probe.adapter.features.has('subgroups') };
  } finally {
    probe.release();
  }
}

/** The device profile for the adapter this bench runs on: what `kiln compile --device-profile auto` uses. */
export const localProfile = async (): Promise<DeviceProfile> => (await localAdapter()).profile;

export function compileInMemory(model: BenchModel, profile?: DeviceProfile): ArtifactFiles {
  const { graph } = importOnnx(model.bytes, { file: model.file, symbols: symbolsFor(model) });
  return artifactFiles(compileGraph(graph, { source: model.name, ...(profile ? { profile } : {}) }), `memory:${model.name}`);
}

/** A session of the model compiled for the local adapter's profile. */
export async function kilnSession(model: BenchModel): Promise<Session> {
  return Session.load(compileInMemory(model, await localProfile()));
}

/** Feeds for the session by input name (int64 values arrive as doubles; the runtime narrows them as compiled). */
export function kilnFeeds(session: Session, model: BenchModel): Record<string, Float64Array> {
  return Object.fromEntries(
    session.inputs.map((t) => {
      const v = model.inputs.find((x) => x.name === t.name);
      if (!v) throw new Error(`${model.name}: no value for kiln input '${t.name}'`);
      return [t.name, v.values];
    }),
  );
}

export async function kilnRun(session: Session, feeds: Record<string, Float64Array>): Promise<Record<string, Float64Array>> {
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, Float64Array.from(o.data as ArrayLike<number>)]));
}
