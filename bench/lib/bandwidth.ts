// The adapter's read-bandwidth ceiling: a plain compute kernel that streams a large storage buffer (vec4<f32>
// loads, far larger than any cache) and nothing else. A decode step of a large model is bound by reading its
// weights once, so this is the roofline its bytes-per-second is judged against. Each invocation sums its slice
// and writes one value, so the compiler cannot drop the loads as dead.
//
// Two access layouts are timed and the faster one is the ceiling: on a GPU, `strided` (neighbouring invocations
// read neighbouring vec4s) coalesces; on a CPU adapter such as lavapipe, which runs a workgroup's invocations as
// SIMD lanes of one thread, `blocked` (each invocation one contiguous run) prefetches better.
import { withErrorScopes } from '../../runtime/errors.js';
import { type Timing, measure } from './timing.js';

export type ReadLayout = 'strided' | 'blocked';

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

// Numeric usages, as the runtime uses, so nothing depends on WebGPU globals being installed.
const STORAGE = 0x0080;
const COPY_DST = 0x0008;

const WORKGROUP = 64;
const WORKGROUPS = 1024;
/** Invocations per dispatch; every binding is a whole number of vec4s per invocation. */
const THREADS = WORKGROUP * WORKGROUPS;
const VEC4_BYTES = 16;
const MIB = 1024 * 1024;

function kernel(layout: ReadLayout): string {
  const loop =
    layout === 'strided'
      ? `for (var i = gid.x; i < n; i += ${THREADS}u) { acc += src[i]; }`
      : `let per = n / ${THREADS}u;
  let start = gid.x * per;
  for (var i = start; i < start + per; i++) { acc += src[i]; }`;
  return `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = arrayLength(&src);
  var acc = vec4<f32>(0.0);
  ${loop}
  dst[gid.x] = acc.x + acc.y + acc.z + acc.w;
}
`;
}

/**
 * Time full reads of one large buffer on `device`. The buffer is bound in ranges of at most the device's
 * maxStorageBufferBindingSize (128 MiB by default), one dispatch per range, all in one submission per run.
 */
export async function measureReadBandwidth(device: GPUDevice, opts: BandwidthOptions = {}): Promise<Bandwidth> {
  const unit = THREADS * VEC4_BYTES;
  const total = Math.floor(Math.min(opts.bytes ?? 256 * MIB, device.limits.maxBufferSize) / unit) * unit;
  const range = Math.min(total, Math.floor(device.limits.maxStorageBufferBindingSize / unit) * unit);
  if (range < unit) throw new Error(`the device's buffer limits leave less than ${unit} bytes to read`);
  const ranges = Math.floor(total / range);
  const bytes = ranges * range;
  // Zero-filled (WebGPU zero-initialises buffers): the values do not matter, only that every byte is loaded.
  const src = device.createBuffer({ label: 'bandwidth-src', size: bytes, usage: STORAGE | COPY_DST });
  const dst = device.createBuffer({ label: 'bandwidth-dst', size: THREADS * 4, usage: STORAGE });
  try {
    const results = {} as Record<ReadLayout, Timing>;
    for (const layout of ['strided', 'blocked'] as const) {
      const run = await prepare(device, layout, src, dst, range, ranges);
      results[layout] = await measure(run, { warmup: opts.warmup ?? 2, runs: opts.runs ?? 5 });
      opts.onProgress?.(`read bandwidth (${layout}): ${gbps(bytes, results[layout].medianMs).toFixed(2)} GB/s`);
    }
    const best = gbps(bytes, results.strided.medianMs) >= gbps(bytes, results.blocked.medianMs) ? 'strided' : 'blocked';
    return {
      gbps: gbps(bytes, results[best].medianMs),
      layout: best,
      bytes,
      timing: results[best],
      byLayout: { strided: gbps(bytes, results.strided.medianMs), blocked: gbps(bytes, results.blocked.medianMs) },
    };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

const gbps = (bytes: number, ms: number): number => bytes / (ms / 1000) / 1e9;

/** Build the pipeline and bind groups for `layout`; returns one timed run (submit, wait until done). */
async function prepare(device: GPUDevice, layout: ReadLayout, src: GPUBuffer, dst: GPUBuffer, range: number, ranges: number): Promise<() => Promise<void>> {
  const { pipeline, groups } = await withErrorScopes(
    device,
    async () => {
      const module = device.createShaderModule({ label: `bandwidth-${layout}`, code: kernel(layout) });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      if (errors.length) throw new Error(`the bandwidth kernel does not compile: ${errors.map((e) => e.message).join('; ')}`);
      const pipeline = await device.createComputePipelineAsync({ label: `bandwidth-${layout}`, layout: 'auto', compute: { module, entryPoint: 'main' } });
      const groups = Array.from({ length: ranges }, (_, k) =>
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: src, offset: k * range, size: range } },
            { binding: 1, resource: { buffer: dst } },
          ],
        }),
      );
      return { pipeline, groups };
    },
    `building the ${layout} bandwidth kernel`,
  );
  return async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    for (const g of groups) {
      pass.setBindGroup(0, g);
      pass.dispatchWorkgroups(WORKGROUPS);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
}
