// The device rates `kiln tune` measures with plain WebGPU kernels of its own (no artifact): the read ceiling, the
// cost of one dispatch submitted alone and of one more dispatch inside a command buffer. Dispatch costs are timed on
// the CPU from submit to onSubmittedWorkDone (what a session pays, queue included); the read ceiling by the GPU's own
// timestamps where the device has `timestamp-query` (on a fast GPU a 256 MiB read takes about as long as a submit),
// else on the CPU too. Medians of `runs` after a warm-up.
//
// The read ceiling waits through the caller's `wait`, so that it is paced as a session is (runtime/wait-pacing.ts,
// which this layer may not import): in Node, Dawn polls from setImmediate while a wait is pending, and a ceiling
// measured with the JS thread spinning sits below what a paced session reaches (on lavapipe the spin takes a core
// from the adapter's threads).
//
// The read-ceiling probe is also the benchmarks' roofline: bench/lib/bandwidth.ts wraps measureReadCeiling (bench/
// may import compiler/, not the reverse), so a tuned profile's bytesPerMs and the benchmarks' GB/s come from one
// kernel and cannot drift apart.
export type ReadLayout = 'strided' | 'blocked';

export interface ReadCeiling {
  readonly bytesPerMs: number;
  /** The faster access order: `strided` coalesces on a GPU, `blocked` prefetches on a CPU adapter (lavapipe). */
  readonly layout: ReadLayout;
}

/** One probe's timed runs, in ms (the same shape as bench/lib/timing.ts's Timing, which the benchmarks report). */
export interface ProbeTiming {
  readonly medianMs: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly runs: number;
}

export interface ReadCeilingMeasurement extends ReadCeiling {
  /** Bytes one timed run reads. */
  readonly bytes: number;
  /** The faster layout's times. */
  readonly timing: ProbeTiming;
  readonly byLayout: Readonly<Record<ReadLayout, ProbeTiming>>;
}

export interface ReadCeilingOptions {
  /** Buffer size; default 256 MiB (clamped to the device's maxBufferSize). */
  readonly bytes?: number;
  /** Untimed runs before the timed ones; default 1. */
  readonly warmup?: number;
  /**
   * Time by the GPU's timestamps where the device has `timestamp-query` (the default); false times every run on the
   * CPU, submit to onSubmittedWorkDone, as the benchmarks time their models.
   */
  readonly timestamps?: boolean;
  /** Called as each layout is timed, for progress lines. */
  readonly onLayout?: (layout: ReadLayout, bytesPerMs: number) => void;
  /** How to wait for each run (a WaitPacer's wait, as sessions wait); default: await it plainly. */
  readonly wait?: Waiter;
}

const STORAGE = 0x0080; // numeric usages: nothing depends on WebGPU globals being installed
const WORKGROUP = 64;
const WORKGROUPS = 1024;
/** Invocations per read dispatch; every binding is a whole number of vec4s per invocation. */
const THREADS = WORKGROUP * WORKGROUPS;
const VEC4_BYTES = 16;
const MIB = 1024 * 1024;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const summarize = (ms: readonly number[]): ProbeTiming => ({
  medianMs: median(ms),
  minMs: Math.min(...ms),
  meanMs: ms.reduce((a, b) => a + b, 0) / ms.length,
  runs: ms.length,
});

/** `runs` samples of `run` (each returns its own ms), after `warmup` untimed calls. */
async function sample(run: () => Promise<number>, runs: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await run());
  return ms;
}

/** `submit` timed on the CPU, submit to completion. */
const wallClock =
  (submit: () => Promise<void>): (() => Promise<number>) =>
  async () => {
    const t = performance.now();
    await submit();
    return performance.now() - t;
  };

/** A compute pipeline from WGSL, its compile and validation errors thrown (a kiln bug: the kernels are fixed text). */
async function pipeline(device: GPUDevice, label: string, code: string): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  let p: GPUComputePipeline | undefined;
  let failure: unknown;
  try {
    const module = device.createShaderModule({ label, code });
    p = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (e) {
    failure = e;
  }
  // Popped even when creation rejects, so a failure leaves no scope behind on a device the caller goes on using.
  const error = await device.popErrorScope();
  if (error || !p) throw new Error(`the ${label} kernel does not build: ${error?.message ?? (failure instanceof Error ? failure.message : String(failure))}`);
  return p;
}

/** A pass dispatching `p` once per bind group, into `encoder`. */
function encodePass(encoder: GPUCommandEncoder, p: GPUComputePipeline, groups: readonly GPUBindGroup[], workgroups: number, timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = encoder.beginComputePass(timestampWrites ? { timestampWrites } : undefined);
  pass.setPipeline(p);
  for (const g of groups) {
    pass.setBindGroup(0, g);
    pass.dispatchWorkgroups(workgroups);
  }
  pass.end();
}

/** How a probe waits for the GPU: `results()`, for a run of kind `key` submitted just now. */
export type Waiter = <T>(key: string, results: () => Promise<T>) => Promise<T>;
const plainWait: Waiter = (_key, results) => results();

/** One submission of that pass, awaited. */
function submitter(device: GPUDevice, p: GPUComputePipeline, groups: readonly GPUBindGroup[], workgroups: number, wait: Waiter = plainWait): () => Promise<void> {
  return async () => {
    const encoder = device.createCommandEncoder();
    encodePass(encoder, p, groups, workgroups);
    device.queue.submit([encoder.finish()]);
    await wait('done', () => device.queue.onSubmittedWorkDone());
  };
}

/** GPU-timestamp samples of that pass (one submission each); a run returns the pass's own ms. */
async function gpuSamples(device: GPUDevice, p: GPUComputePipeline, groups: readonly GPUBindGroup[], workgroups: number, runs: number, warmup: number, wait: Waiter): Promise<number[]> {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = device.createBuffer({ size: 16, usage: 0x200 | 0x04 /* QUERY_RESOLVE | COPY_SRC */ });
  const readback = device.createBuffer({ size: 16, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ });
  try {
    return await sample(
      async () => {
        const encoder = device.createCommandEncoder();
        encodePass(encoder, p, groups, workgroups, { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
        encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
        device.queue.submit([encoder.finish()]);
        await wait('stamps', () => readback.mapAsync(1 /* GPUMapMode.READ */));
        const [begin, end] = new BigUint64Array(readback.getMappedRange().slice(0));
        readback.unmap();
        return Number(end! - begin!) / 1e6;
      },
      runs,
      warmup,
    );
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}

/** Each invocation sums its slice of `src` and stores the sum, so no load is dead code. */
const readKernel = (layout: ReadLayout): string => `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = arrayLength(&src);
  var acc = vec4<f32>(0.0);
  ${layout === 'blocked' ? `let per = n / ${THREADS}u;\n  for (var i = gid.x * per; i < gid.x * per + per; i++) { acc += src[i]; }` : `for (var i = gid.x; i < n; i += ${THREADS}u) { acc += src[i]; }`}
  dst[gid.x] = acc.x + acc.y + acc.z + acc.w;
}`;

/**
 * Full reads of one buffer far larger than any cache (256 MiB by default, within the device's limits), bound in
 * ranges of at most maxStorageBufferBindingSize, one dispatch per range, all in one submission per run. Both layouts
 * are timed (`runs` runs after the warm-up) and the faster one is the ceiling: the median of its runs.
 */
export async function measureReadCeiling(device: GPUDevice, runs: number, opts: ReadCeilingOptions = {}): Promise<ReadCeilingMeasurement> {
  if (runs < 1) throw new Error(`runs must be at least 1 (got ${runs})`);
  const warmup = opts.warmup ?? 1;
  const unit = THREADS * VEC4_BYTES;
  const total = Math.floor(Math.min(opts.bytes ?? 256 * MIB, device.limits.maxBufferSize) / unit) * unit;
  const range = Math.min(total, Math.floor(device.limits.maxStorageBufferBindingSize / unit) * unit);
  if (range < unit) throw new Error(`the device's buffer limits leave less than ${unit} bytes to read`);
  const bytes = Math.floor(total / range) * range;
  // Zero-filled (WebGPU zero-initialises buffers): the values do not matter, only that every byte is loaded.
  const src = device.createBuffer({ label: 'read-ceiling-src', size: bytes, usage: STORAGE });
  const dst = device.createBuffer({ label: 'read-ceiling-dst', size: THREADS * 4, usage: STORAGE });
  try {
    const byLayout = {} as Record<ReadLayout, ProbeTiming>;
    for (const layout of ['strided', 'blocked'] as const) {
      const p = await pipeline(device, `read-ceiling-${layout}`, readKernel(layout));
      const groups = Array.from({ length: bytes / range }, (_, i) =>
        device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src, offset: i * range, size: range } }, { binding: 1, resource: { buffer: dst } }] }),
      );
      const stamped = opts.timestamps !== false && device.features.has('timestamp-query');
      const wait = opts.wait ?? plainWait;
      let timing = stamped ? summarize(await gpuSamples(device, p, groups, WORKGROUPS, runs, warmup, wait)) : undefined;
      // A timestamp pair that says nothing (zero, or a clock running backwards) falls back to the CPU's clock.
      if (!(timing && timing.medianMs > 0)) timing = summarize(await sample(wallClock(submitter(device, p, groups, WORKGROUPS, wait)), runs, warmup));
      byLayout[layout] = timing;
      opts.onLayout?.(layout, bytes / timing.medianMs);
    }
    // Ties go to `strided`, the layout a GPU is built for.
    const layout: ReadLayout = byLayout.strided.medianMs <= byLayout.blocked.medianMs ? 'strided' : 'blocked';
    return { bytesPerMs: bytes / byLayout[layout].medianMs, layout, bytes, timing: byLayout[layout], byLayout };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

export interface DispatchCosts {
  /** One tiny dispatch submitted alone, to completion: the profile's dispatchMs. */
  readonly dispatchMs: number;
  /** Each further dispatch in the same command buffer: launchMs. */
  readonly launchMs: number;
}

/** A one-invocation kernel, alone and `count` times in one pass: (T(count) - T(1)) / (count - 1) is one launch. */
export async function measureDispatchCosts(device: GPUDevice, runs: number, count = 64): Promise<DispatchCosts> {
  const buffer = device.createBuffer({ label: 'tune-launch', size: 16, usage: STORAGE });
  try {
    const p = await pipeline(device, 'tune-launch', '@group(0) @binding(0) var<storage, read_write> v: array<f32>;\n@compute @workgroup_size(1)\nfn main() { v[0] = v[0] + 1.0; }');
    const group = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
    // More runs than the other probes: each is short, and the difference of two medians is noisy.
    const time = async (groups: readonly GPUBindGroup[]): Promise<number> => median(await sample(wallClock(submitter(device, p, groups, 1)), 4 * runs, 2));
    const one = await time([group]);
    const many = await time(Array<GPUBindGroup>(count).fill(group));
    return { dispatchMs: one, launchMs: Math.max(0, (many - one) / (count - 1)) };
  } finally {
    buffer.destroy();
  }
}
