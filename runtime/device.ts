// Device acquisition. In a browser the GPU is navigator.gpu; in Node it comes from the `webgpu` package (Dawn),
// imported dynamically so browser bundles never see it. Dawn's GPU object (its instance) is created once per
// process and held for the process's life: Dawn keeps processing the instance's events after a device of it is
// destroyed with work in flight, and an instance collected meanwhile is used after free (an abort with
// 'std::system_error: Invalid argument', a failed mutex assertion, or a hang; seen in about 1 process in 10 that
// destroyed a device during a run). Holding it does not keep the process alive.

export interface AcquireOptions {
  /** Features to request; each must be offered by the adapter. */
  readonly features?: readonly GPUFeatureName[];
  /** Features to request when the adapter offers them (e.g. 'shader-f16'), silently skipped otherwise. */
  readonly optionalFeatures?: readonly GPUFeatureName[];
  /** Use this GPU instead of navigator.gpu / the `webgpu` package. */
  readonly gpu?: GPU;
  readonly powerPreference?: GPUPowerPreference;
  /** Limits the work needs (a model's requires.limits); those above WebGPU's defaults are requested from the adapter. */
  readonly limits?: Readonly<Record<string, number>>;
  /** Request every limit kiln plans for at the adapter's best (a device shared by models not known yet). */
  readonly bestLimits?: boolean;
}

/** WebGPU's default limits for the ones kiln's manifests name: only values above these must be requested. */
export const DEFAULT_LIMITS: Readonly<Record<string, number>> = {
  maxBufferSize: 268435456,
  maxStorageBufferBindingSize: 134217728,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBuffersPerShaderStage: 12,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxUniformBufferBindingSize: 65536,
};

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /** "vendor / architecture / device / description" of the adapter. */
  readonly adapterInfo: string;
  /** Features enabled on the device. */
  readonly features: ReadonlySet<string>;
  /** Destroy the device; safe to call twice. */
  release(): void;
}

export const NO_ADAPTER_MESSAGE =
  'no WebGPU adapter: install a Vulkan driver (e.g. mesa-vulkan-drivers from bookworm-backports) and set XDG_RUNTIME_DIR';

export class DeviceError extends Error {
  override name = 'DeviceError';
}

/** The error for an adapter without features a model requires (acquisition here, or the shared device's check). */
export const lacksFeatures = (adapterInfo: string, missing: readonly string[]): DeviceError =>
  new DeviceError(`adapter ${adapterInfo} lacks required feature(s): ${missing.join(', ')}`);

/** Whether this is Node (its `webgpu` package and file system stand in for navigator.gpu and fetch). */
export const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/** The adapter's description as one line: "vendor / architecture / device / description". */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  return [info.vendor, info.architecture, info.device, info.description].map((s) => s || '?').join(' / ');
}

let processGpu: Promise<GPU> | undefined;

/** The process's one Dawn GPU; a failed import is not cached, so an npm install and a retry can succeed. */
function nodeGpu(): Promise<GPU> {
  processGpu ??= importNodeGpu().catch((e: unknown) => {
    processGpu = undefined;
    throw e;
  });
  return processGpu;
}

async function importNodeGpu(): Promise<GPU> {
  // A variable specifier keeps bundlers from resolving the Node-only package into browser builds.
  const specifier = 'webgpu';
  let mod: { create(options: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    throw new DeviceError(`cannot load the 'webgpu' package for Node (${(e as Error).message}); run npm install`);
  }
  // WebGPU code refers to constants such as GPUBufferUsage as globals; install them once.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create([]);
}

export async function acquireDevice(opts: AcquireOptions = {}): Promise<AcquiredDevice> {
  let gpu = opts.gpu;
  if (!gpu) {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (nav?.gpu) gpu = nav.gpu;
    else if (isNode()) gpu = await nodeGpu();
    else throw new DeviceError('WebGPU is not available here (no navigator.gpu)');
  }
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (!adapter) throw new DeviceError(NO_ADAPTER_MESSAGE);
  const missing = (opts.features ?? []).filter((f) => !adapter.features.has(f));
  const adapterInfo = describeAdapter(adapter);
  if (missing.length) throw lacksFeatures(adapterInfo, missing);
  const requiredFeatures = [...new Set([...(opts.features ?? []), ...(opts.optionalFeatures ?? []).filter((f) => adapter.features.has(f))])];
  // Ask for a raised limit up to what the adapter offers; a shortfall is reported by the caller naming the kernel.
  const offered = adapter.limits as unknown as Record<string, number>;
  const wanted = opts.bestLimits ? { ...offered, ...opts.limits } : (opts.limits ?? {});
  const requiredLimits = Object.fromEntries(
    Object.entries(wanted)
      .filter(([k, v]) => k in DEFAULT_LIMITS && v > DEFAULT_LIMITS[k]!)
      .map(([k, v]) => [k, Math.min(v, offered[k] ?? DEFAULT_LIMITS[k]!)]),
  );
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  let released = false;
  return {
    device,
    adapter,
    adapterInfo,
    features: new Set(device.features),
    release(): void {
      if (released) return;
      released = true;
      device.destroy();
    },
  };
}
