// Device profiles for the sparse/dense cost model (cost-model.ts). Numbers for a device come from running
// `npm run bench:sparse` on it (the bench prints the fitted rates); 'generic-gpu' is a conservative discrete-GPU
// guess used when nothing better is known. `kiln compile --device-profile auto` picks by the local adapter.
import type { DeviceProfile } from './cost-model.js';

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  lavapipe: {
    name: 'lavapipe',
    source: 'Mesa 25.0.7 llvmpipe on 2 cores, 2026-11-22: 4096x4096 f16 timings (dense Gemm 212 ms at N=1, 2012 ms at N=16; direct 80 % 49/410 ms; scatter 80 % 180/840 ms) and the read-bandwidth probe (~1.5 GB/s)',
    bytesPerMs: 1.5e6,
    denseMacsPerMs: 1.1e5,
    directMacsPerMs: 1.0e5,
    scatterMacsPerMs: 2.0e5,
    dispatchMs: 0.1,
  },
  'generic-gpu': {
    name: 'generic-gpu',
    source: 'a mid-range discrete GPU: ~300 GB/s, dense skinny matmul near bandwidth, sparse kernels at a third of dense throughput',
    bytesPerMs: 3e8,
    denseMacsPerMs: 2e9,
    directMacsPerMs: 3e8,
    scatterMacsPerMs: 7e8,
    dispatchMs: 0.01,
  },
};

export const DEFAULT_PROFILE = 'generic-gpu';

/** The profile for an adapter description (`vendor / architecture / device / description`). */
export function profileForAdapter(adapterInfo: string): DeviceProfile {
  if (/llvmpipe|lavapipe/i.test(adapterInfo)) return PROFILES.lavapipe!;
  return PROFILES[DEFAULT_PROFILE]!;
}

export function lookupProfile(name: string): DeviceProfile | undefined {
  return PROFILES[name];
}
