// GPU test harness: one shared device per test file (with shader-f16 when the adapter has it), kernels compiled
// from their WGSL text into pipelines inside error scopes (cached by structural hash), inputs uploaded with
// compiler/pack.ts, one dispatch, outputs read back and decoded into Tensors for comparison with the interpreter.
import { afterAll } from 'vitest';
import { type Kernel, staticDispatch } from '../../compiler/kernel-spec.js';
import { decodeTensor, encodeTensor } from '../../compiler/pack.js';
import type { Tensor } from '../../ir/tensor.js';
import { type AcquiredDevice, acquireDevice } from '../../runtime/device.js';
import { GpuError, withErrorScopes } from '../../runtime/errors.js';

export interface TestGpu {
  readonly acquired: AcquiredDevice;
  readonly device: GPUDevice;
  readonly shaderF16: boolean;
  readonly pipelines: Map<string, GPUComputePipeline>;
}

let shared: Promise<TestGpu> | undefined;

/** The file's device, acquired on first use (released after the file's tests, see below). */
export function testGpu(): Promise<TestGpu> {
  shared ??= acquireDevice({ optionalFeatures: ['shader-f16', 'subgroups'] }).then((acquired) => ({
    acquired,
    device: acquired.device,
    shaderF16: acquired.features.has('shader-f16'),
    pipelines: new Map(),
  }));
  return shared;
}

// Registered while the test file imports this module (collection time), so it runs after all of the file's tests.
afterAll(async () => {
  const gpu = await shared;
  shared = undefined;
  gpu?.acquired.release();
});

/** The kernel's pipeline, created once per device; WGSL compile errors are thrown with the source attached. */
export async function pipelineFor(gpu: TestGpu, kernel: Kernel): Promise<GPUComputePipeline> {
  const cached = gpu.pipelines.get(kernel.hash);
  if (cached) return cached;
  const { device } = gpu;
  const pipeline = await withErrorScopes(
    device,
    async () => {
      const module = device.createShaderModule({ code: kernel.wgsl, label: kernel.name });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length)
        throw new GpuError('validation', errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('\n'), kernel.name);
      // An explicit layout from the binding metadata: 'auto' would drop bindings the shader never reads.
      const bindGroupLayout = device.createBindGroupLayout({
        entries: kernel.bindings.map((b) => ({
          binding: b.binding,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: b.access === 'read' ? 'read-only-storage' : b.access === 'uniform' ? 'uniform' : 'storage' },
        })),
      });
      const layout = device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] });
      return device.createComputePipelineAsync({ layout, compute: { module, entryPoint: kernel.entryPoint } });
    },
    kernel.name,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n--- ${kernel.name}.wgsl ---\n${kernel.wgsl}`);
  });
  gpu.pipelines.set(kernel.hash, pipeline);
  return pipeline;
}

/**
 * Run `kernel` once: `inputs` bind to its read bindings in order; returns its read_write bindings decoded with the
 * dtype and shape recorded in the binding metadata.
 */
export async function runKernel(gpu: TestGpu, kernel: Kernel, inputs: readonly Tensor[]): Promise<Tensor[]> {
  const { device } = gpu;
  const pipeline = await pipelineFor(gpu, kernel);
  const reads = kernel.bindings.filter((b) => b.access === 'read');
  if (reads.length !== inputs.length) throw new Error(`${kernel.name} takes ${reads.length} inputs, got ${inputs.length}`);
  const buffers: GPUBuffer[] = [];
  const outputs: { buffer: GPUBuffer; staging: GPUBuffer; dtype: Tensor['dtype']; shape: readonly number[] }[] = [];
  try {
    await withErrorScopes(
      device,
      () => {
        let next = 0;
        const entries = kernel.bindings.map((b) => {
          const buffer = device.createBuffer({
            size: b.bytes,
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
            label: b.name,
          });
          buffers.push(buffer);
          if (b.access === 'read') {
            const t = inputs[next++]!;
            if (t.dtype !== b.dtype) throw new Error(`${kernel.name}: input ${b.name} must be ${b.dtype}, got ${t.dtype}`);
            device.queue.writeBuffer(buffer, 0, encodeTensor(t, { align4: true }));
          } else if (b.access === 'read_write') {
            const staging = device.createBuffer({ size: b.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
            buffers.push(staging);
            outputs.push({ buffer, staging, dtype: b.dtype!, shape: b.shape! });
          }
          return { binding: b.binding, resource: { buffer } };
        });
        const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        const [x, y, z] = staticDispatch(kernel);
        if (x > 0) pass.dispatchWorkgroups(x, y, z);
        pass.end();
        for (const o of outputs) encoder.copyBufferToBuffer(o.buffer, 0, o.staging, 0, o.staging.size);
        device.queue.submit([encoder.finish()]);
      },
      kernel.name,
    );
    const results: Tensor[] = [];
    for (const o of outputs) {
      await o.staging.mapAsync(GPUMapMode.READ);
      const bytes = new Uint8Array(o.staging.getMappedRange().slice(0));
      o.staging.unmap();
      results.push(decodeTensor(o.dtype, o.shape, bytes));
    }
    return results;
  } finally {
    for (const b of buffers) b.destroy();
  }
}
