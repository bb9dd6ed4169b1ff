// How a session gets its device: the caller's (borrowed: releasing it stays the caller's business), one of its own
// from a GPU the caller gives, or the process's shared one (device-pool.ts); each must have the model's features.
import { type AcquiredDevice, acquireDevice, lacksFeatures } from './device.js';
import { sharedDevice } from './device-pool.js';
import { ArtifactError } from './files.js';
import type { Manifest } from './plan.js';

export async function sessionDevice(m: Manifest, opts: { readonly device?: AcquiredDevice; readonly gpu?: GPU }): Promise<AcquiredDevice> {
  if (opts.device) return borrowed(opts.device, m);
  if (opts.gpu) return acquireDevice({ features: m.requires.features as GPUFeatureName[], limits: m.requires.limits, gpu: opts.gpu });
  return withFeatures(await sharedDevice(), m);
}

const missingFeatures = (d: AcquiredDevice, m: Manifest): string[] => m.requires.features.filter((f) => !d.features.has(f));

/** A caller's device wrapped so that releasing it is a no-op (the caller owns it). */
function borrowed(d: AcquiredDevice, m: Manifest): AcquiredDevice {
  const missing = missingFeatures(d, m);
  if (missing.length) throw new ArtifactError(`the given device lacks the model's required feature(s): ${missing.join(', ')}`);
  return { ...d, release: () => undefined };
}

/** The shared device, if it has the model's features (it has every one its adapter offers). */
function withFeatures(d: AcquiredDevice, m: Manifest): AcquiredDevice {
  const missing = missingFeatures(d, m);
  if (!missing.length) return d;
  d.release();
  throw lacksFeatures(d.adapterInfo, missing);
}
