// Device profiles for the sparse/dense cost model (cost-model.ts) and the traffic model (compiler/traffic/). Numbers for a device come from running
// `npm run bench:sparse` on it (the bench prints the fitted rates); 'generic-gpu' is a conservative discrete-GPU
// guess used when nothing better is known. `kiln compile --device-profile auto` picks by the local adapter.
// Neither carries a `tuning` (measured kernel choices): the compiler's own defaults stay theirs, and `kiln tune`
// writes a tuned profile to a file (profile-file.ts) that `--device-profile <file.json>` reads.
import type { DeviceProfile } from './cost-model.js';

export const PROFILES: Readonly<Record<string, DeviceProfile>> = {
  lavapipe: {
    name: 'lavapipe',
    // Rates fitted by `npm run bench:sparse` (median multiply-adds per ms over each kernel's compute-bound cases),
    // dense against the arranged kernel (f16 panels, 2026-12-06: 3.38e6, was 1.75e5 against the row-major one,
    // which made sparse look faster where it is not: that profile's dense-or-sparse call agreed with the
    // measurements in 18 of 40 cases, the refit in 36). With 256x256 tiles scatter never beat direct here.
    source: 'npm run bench:sparse on llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6), 2 cores, 2026-12-06',
    // bytesPerMs: the read-bandwidth probe's blocked read (bench/lib/bandwidth.ts), 8.1-9.6 GB/s over the runs of
    // 2026-12-06 (it was 1.98 GB/s through the November probe); the arranged GEMV reaches 75-91 % of it.
    bytesPerMs: 8500000,
    denseMacsPerMs: 3380000,
    directMacsPerMs: 475000,
    scatterMacsPerMs: 684000,
    dispatchMs: 0.582,
    // The traffic model's terms (compiler/traffic/). A transaction is an x86 cache line. flopsPerMs: `kiln profile`
    // of a 512 x 512 x 512 f32 MatMul (the tiled kernel, compute-bound here): 268 Mflop in 61.7 ms. launchMs: the
    // median dispatch of `kiln profile out/mlp` (four dispatches moving under 300 bytes each), 0.06-0.08 ms.
    // Writes are assumed as fast as reads (not measured). Measured 2026-12, one run each, machine not quiet.
    transactionBytes: 64,
    flopsPerMs: 4.35e6,
    launchMs: 0.06,
    // The arranged kernel over 128 rows (a 4096 x 4096 x 128 GEMM over panels of 256): 9.6-11 Gflop/s in blocks of
    // 4 and 8 rows (bench:gemv, 2026-12-06), about 2.5x the tiled kernel's rate above.
    panelFlopsPerMs: 1.1e7,
    // A kernel looping over workgroupBarrier(), 64 and 256 invocations, 1 and 16 workgroups: 0.69-2.95 us per
    // barrier round per workgroup, in proportion to the invocations (2026-12-06, quiet machine).
    barrierMs: 1.13e-5,
  },
  'generic-gpu': {
    name: 'generic-gpu',
    source: 'a mid-range discrete GPU: ~300 GB/s, dense skinny matmul near bandwidth, sparse kernels at a third of dense throughput',
    bytesPerMs: 3e8,
    denseMacsPerMs: 2e9,
    directMacsPerMs: 3e8,
    scatterMacsPerMs: 7e8,
    dispatchMs: 0.01,
    // 32-byte memory sectors, writes at the read bandwidth, ~10 Tflop/s f32, a few microseconds per dispatch.
    writeBytesPerMs: 3e8,
    transactionBytes: 32,
    flopsPerMs: 1e10,
    launchMs: 0.004,
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
