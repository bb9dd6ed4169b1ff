// The device rates `kiln tune` measures with plain WebGPU kernels of its own (no artifact): the read ceiling, the
// cost of one dispatch submitted alone and of one more dispatch inside a command buffer. Dispatch costs are timed on
// the CPU from submit to onSubmittedWorkDone (what a session pays, queue included); the read ceiling by the GPU's own
// timestamps where the device has `timestamp-query` (on a fast GPU a 256 MiB read takes about as long as a submit),
// else on the CPU too. Medians of `runs` after a warm-up. (bench/lib/bandwidth.ts is the benchmarks' copy of the
// read probe; compiler/ may not import bench/.)

export interface ReadCeiling {
  readonly bytesPerMs: number;
  /** The faster access order: `strided` coalesces on a GPU, `blocked` prefetches on a CPU adapter (lavapipe). */
  readonly layout: 'strided' | 'blocked';
}

const STORAGE = 0x0080; // numeric usages: nothing depends on WebGPU globals being installed
const WORKGROUPS = 1024;
const THREADS = 64 * WORKGROUPS;
const MIB = 1024 * 1024;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Median wall time of `run` (submit and wait) over `runs`, after `warmup` untimed runs. */
async function timeRuns(run: () => Promise<void>, runs: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** A compute pipeline from WGSL, its compile and validation errors thrown (a kiln bug: the kernels are fixed text). */
async function pipeline(device: GPUDevice, label: string, code: string): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const p = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  const error = await device.popErrorScope();
  if (error) throw new Error(`kiln tune: the ${label} kernel does not build: ${error.message}`);
  return p;
}

/** One submission of a pass dispatching `p` once per bind group, awaited. */
function submitter(device: GPUDevice, p: GPUComputePipeline, groups: readonly GPUBindGroup[], workgroups: number): () => Promise<void> {
  return async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(p);
    for (const g of groups) {
      pass.setBindGroup(0, g);
      pass.dispatchWorkgroups(workgroups);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
}

/** Median GPU time of that pass from its own timestamps, over `runs` after a warm-up. */
async function gpuTime(device: GPUDevice, p: GPUComputePipeline, groups: readonly GPUBindGroup[], workgroups: number, runs: number): Promise<number> {
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = device.createBuffer({ size: 16, usage: 0x200 | 0x04 /* QUERY_RESOLVE | COPY_SRC */ });
  const readback = device.createBuffer({ size: 16, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ });
  try {
    const ms: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
      pass.setPipeline(p);
      for (const g of groups) {
        pass.setBindGroup(0, g);
        pass.dispatchWorkgroups(workgroups);
      }
      pass.end();
      encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(1 /* GPUMapMode.READ */);
      const [begin, end] = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      if (i > 0) ms.push(Number(end! - begin!) / 1e6); // run 0 is the warm-up
    }
    return median(ms);
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}

const readKernel = (blocked: boolean): string => `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = arrayLength(&src);
  var acc = vec4<f32>(0.0);
  ${blocked ? `let per = n / ${THREADS}u;\n  for (var i = gid.x * per; i < gid.x * per + per; i++) { acc += src[i]; }` : `for (var i = gid.x; i < n; i += ${THREADS}u) { acc += src[i]; }`}
  dst[gid.x] = acc.x + acc.y + acc.z + acc.w;
}`;

/**
 * Full reads of one buffer far larger than any cache (256 MiB, within the device's limits), bound in ranges of at
 * most maxStorageBufferBindingSize; each invocation sums its slice and stores it, so no load is dead.
 */
export async function measureReadCeiling(device: GPUDevice, runs: number): Promise<ReadCeiling> {
  const unit = THREADS * 16;
  const total = Math.floor(Math.min(256 * MIB, device.limits.maxBufferSize) / unit) * unit;
  const range = Math.min(total, Math.floor(device.limits.maxStorageBufferBindingSize / unit) * unit);
  const bytes = Math.floor(total / range) * range;
  const src = device.createBuffer({ label: 'tune-read-src', size: bytes, usage: STORAGE });
  const dst = device.createBuffer({ label: 'tune-read-dst', size: THREADS * 4, usage: STORAGE });
  try {
    let best: ReadCeiling | undefined;
    for (const layout of ['strided', 'blocked'] as const) {
      const p = await pipeline(device, `tune-read-${layout}`, readKernel(layout === 'blocked'));
      const groups = Array.from({ length: bytes / range }, (_, i) =>
        device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src, offset: i * range, size: range } }, { binding: 1, resource: { buffer: dst } }] }),
      );
      // A timestamp pair that says nothing (zero, or a clock running backwards) falls back to the CPU's clock.
      const gpu = device.features.has('timestamp-query') ? await gpuTime(device, p, groups, WORKGROUPS, runs) : NaN;
      const ms = gpu > 0 ? gpu : await timeRuns(submitter(device, p, groups, WORKGROUPS), runs);
      const bytesPerMs = bytes / ms;
      if (!best || bytesPerMs > best.bytesPerMs) best = { bytesPerMs, layout };
    }
    return best!;
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
    const one = await timeRuns(submitter(device, p, [group], 1), 4 * runs, 2);
    const many = await timeRuns(submitter(device, p, Array<GPUBindGroup>(count).fill(group), 1), 4 * runs, 2);
    return { dispatchMs: one, launchMs: Math.max(0, (many - one) / (count - 1)) };
  } finally {
    buffer.destroy();
  }
}
