// The adapter's read-bandwidth ceiling, the roofline a decode step's bytes-per-second is judged against (it is bound
// by reading its weights once). The probe itself is compiler/tune/device-probes.ts's measureReadCeiling, the one
// `kiln tune` writes into a device profile, so the benchmarks and a tuned profile agree on the ceiling; this wrapper
// only reports it in the benchmarks' units (GB/s) and times it as they time everything: on the CPU's clock, submit
// to done, after the benchmarks' warm-up.
import { type ReadLayout, measureReadCeiling } from '../../compiler/tune/device-probes.js';
import { WaitPacer, isNode } from '../../runtime/index.js';
import type { Timing } from './timing.js';

export type { ReadLayout };

export interface Bandwidth {
  /** Bytes read per second, in GB/s (1e9), for the faster layout. */
  readonly gbps: number;
  readonly layout: ReadLayout;
  /** Bytes one timed run reads. */
  readonly bytes: number;
  readonly timing: Timing;
  /** GB/s of every layout tried. */
  readonly byLayout: Readonly<Record<ReadLayout, number>>;
}

export interface BandwidthOptions {
  /** Buffer size; default 256 MiB (clamped to the device's maxBufferSize). */
  readonly bytes?: number;
  readonly warmup?: number;
  readonly runs?: number;
  readonly onProgress?: (line: string) => void;
}

const gbps = (bytes: number, ms: number): number => bytes / (ms / 1000) / 1e9;

/** Time full reads of one large buffer on `device`, both access layouts; the faster is the ceiling. */
export async function measureReadBandwidth(device: GPUDevice, opts: BandwidthOptions = {}): Promise<Bandwidth> {
  const r = await measureReadCeiling(device, opts.runs ?? 5, {
    bytes: opts.bytes,
    warmup: opts.warmup ?? 2,
    // The CPU's clock, not timestamps: the benchmarks compare this with models timed the same way.
    timestamps: false,
    // Waiting as sessions wait: unpaced, Dawn's poll would hold a core the adapter's threads need.
    wait: new WaitPacer(isNode()).wait,
    onLayout: (layout, bytesPerMs) => opts.onProgress?.(`read bandwidth (${layout}): ${(bytesPerMs / 1e6).toFixed(2)} GB/s`),
  });
  return {
    gbps: gbps(r.bytes, r.timing.medianMs),
    layout: r.layout,
    bytes: r.bytes,
    timing: r.timing,
    byLayout: { strided: gbps(r.bytes, r.byLayout.strided.medianMs), blocked: gbps(r.bytes, r.byLayout.blocked.medianMs) },
  };
}
