// The traffic model's one entry for the compiler: a scheduled kernel with the byte sizes of the regions it binds
// in, its streams (families.ts) and their prediction on a device profile (model.ts, device.ts) out.
import type { DeviceProfile } from '../../passes/index.js';
import { byteLength } from '../../runtime/codec.js';
import type { Kernel } from '../kernel-spec.js';
import { trafficRates } from './device.js';
import { describeTraffic, upper } from './families.js';
import { type Prediction, type Stream, predict } from './model.js';

export { type Prediction, type Rates, type Stream, predict, stream, streamBytes } from './model.js';
export { trafficRates } from './device.js';
export { describeTraffic, type BindingIO, type KernelIO } from './families.js';
export { spearman } from './spearman.js';

export interface DispatchTraffic {
  readonly streams: Stream[];
  readonly described: boolean;
  /** Flops executed over padded tiles, when more than the node's own. */
  readonly executedFlops?: number;
  /** Barrier waits over the dispatch (rounds per workgroup x workgroups x invocations per workgroup), when any. */
  readonly barriers?: number;
  readonly predicted: Prediction;
}

/** A kernel's traffic when its bindings are regions of `regionBytes` each, predicted on `profile`. */
export function kernelTraffic(kernel: Kernel, regionBytes: readonly number[], flops: number, profile: DeviceProfile): DispatchTraffic {
  const bindings = kernel.bindings.map((b, j) => ({
    name: b.name,
    access: b.access,
    bytes: regionBytes[j] ?? 0,
    elementBytes: b.dtype ? byteLength(b.dtype, 1024) / 1024 : 4,
    ...(b.shape ? { shape: b.shape } : {}),
  }));
  const workgroups = kernel.dispatch.reduce<number>((n, d) => n * upper(d, kernel.spec), 1);
  const threads = kernel.workgroupSize[0] * kernel.workgroupSize[1] * kernel.workgroupSize[2];
  const { streams, described, executedFlops, barrierRounds } = describeTraffic({ spec: kernel.spec, bindings, workgroups, threads });
  const writes = (j: number): boolean => kernel.bindings[j]?.access === 'read_write';
  const work = Math.max(flops, executedFlops ?? 0);
  const barriers = (barrierRounds ?? 0) * workgroups * threads;
  return {
    streams,
    described,
    ...(work > flops ? { executedFlops: work } : {}),
    ...(barriers ? { barriers } : {}),
    predicted: predict(streams, writes, work, trafficRates(profile), barriers),
  };
}
