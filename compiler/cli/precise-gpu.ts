// The GPU `kiln profile` and `kiln tune` time on: Dawn's (the `webgpu` package) with timestamps at full resolution.
// By default Dawn rounds timestamps to 2^16 ns, a timing side-channel guard for the web, which on a fast dispatch or
// a small GEMV is all of its time. Created once and held for the process's life, as runtime/device.ts holds its
// own: an instance collected while Dawn still processes its events is used after free.

let held: Promise<GPU> | undefined;

/** Dawn's GPU with timestamp quantization disabled; installs its WebGPU globals where none are installed yet. */
export function preciseGpu(): Promise<GPU> {
  // A failed import is not kept, so an npm install and a retry can succeed.
  held ??= createPreciseGpu().catch((e: unknown) => {
    held = undefined;
    throw e;
  });
  return held;
}

async function createPreciseGpu(): Promise<GPU> {
  // A variable specifier keeps bundlers from resolving the Node-only package (as runtime/device.ts does).
  const specifier = 'webgpu';
  const mod = (await import(specifier)) as { create(options: string[]): GPU; globals: Record<string, unknown> };
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  return mod.create(['disable-dawn-features=timestamp_quantization']);
}
