// A kernel's compute pipeline, built once per device and WGSL text: a session reloaded, or a second model with some
// of the same kernels, reuses the pipelines already built instead of compiling them again. Besides the load time,
// that matters for memory: on lavapipe every compile keeps ~100 KB that destroying the pipeline does not give back
// (measured: the same 20 pipelines rebuilt 100 times on one device grow RSS by ~210 MB).
import { ArtifactError } from './files.js';
import type { KernelDecl } from './plan.js';

const caches = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** The pipeline of kernel `k` (WGSL `code`; `where` names its file for errors), from the device's cache. */
export function kernelPipeline(device: GPUDevice, k: KernelDecl, code: string, where: string, adapterInfo: string): Promise<GPUComputePipeline> {
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const key = `${k.entryPoint}\n${k.bindings.map((b) => `${b.binding}:${b.access}`).join(',')}\n${code}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = build(device, k, code, where, adapterInfo);
    cache.set(key, pipeline);
    // A failure is not cached: the error is the caller's, and a later load may bring a fixed file.
    pipeline.catch(() => cache.delete(key));
  }
  return pipeline;
}

async function build(device: GPUDevice, k: KernelDecl, code: string, where: string, adapterInfo: string): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: k.file, code });
  const errors = (await module.getCompilationInfo()).messages.filter((msg) => msg.type === 'error');
  if (errors.length) throw new ArtifactError(`${where} does not compile on ${adapterInfo}: ${errors.map((e) => `${e.lineNum}:${e.linePos}: ${e.message}`).join('; ')}`);
  const layout = device.createBindGroupLayout({
    label: k.file,
    entries: k.bindings.map((b) => ({
      binding: b.binding,
      visibility: 4 /* GPUShaderStage.COMPUTE */,
      buffer: { type: b.access === 'read' ? 'read-only-storage' : b.access === 'uniform' ? 'uniform' : 'storage' },
    })),
  });
  try {
    return await device.createComputePipelineAsync({ label: k.file, layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module, entryPoint: k.entryPoint } });
  } catch (e) {
    // The WGSL compiled, so its declared entry point or bindings disagree with the manifest's.
    throw new ArtifactError(
      `${where}: no pipeline for entry point '${k.entryPoint}' with the manifest's ${k.bindings.length} binding(s) on ${adapterInfo} (${(e as Error).message}); manifest.json and the kernel do not match: compile the model again`,
    );
  }
}
