// onnxruntime-node, the reference engine of the benchmarks (bench:models, bench:sparse) and of any test that checks
// kiln against it, is a devDependency that may be absent: not installed, or its native binding does not load on this
// machine. Everything that needs it asks here, so absence always reads the same: one line saying what is missing and
// how to get it. Without KILN_REQUIRE_ORT=1 the caller skips its ORT part with that line printed; CI sets
// KILN_REQUIRE_ORT=1 (as it sets KILN_REQUIRE_SHARED) so that absence fails the run instead.
//
// Its install script is not needed: it only downloads the CUDA/TensorRT providers (from api.nuget.org; an unreachable
// host fails the whole `npm install`), while the CPU and WebGPU providers ship inside the npm package
// (bin/napi-v6/<platform>/<arch>). package.json's allowScripts denies that script, and scripts/setup.sh and .ci/run
// also install with ONNXRUNTIME_NODE_INSTALL=skip.
import { createRequire } from 'node:module';

export type Ort = typeof import('onnxruntime-node');

/** Either the module, or one line saying what is missing and how to get it. */
export type OrtAvailability = { readonly ort: Ort; readonly missing?: undefined } | { readonly ort?: undefined; readonly missing: string };

const INSTALL = 'run `bash scripts/setup.sh` (or `ONNXRUNTIME_NODE_INSTALL=skip npm install`)';

/** True when absence must fail (CI). */
export const ortRequired = (env: NodeJS.ProcessEnv = process.env): boolean => env.KILN_REQUIRE_ORT === '1';

/**
 * The decision, apart from the real module: `load` is require('onnxruntime-node'). Throws when the module is
 * missing and `required`.
 */
export function checkOrt(load: () => Ort, required: boolean): OrtAvailability {
  let availability: OrtAvailability;
  try {
    availability = { ort: load() };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const notInstalled = err.code === 'MODULE_NOT_FOUND' && /['"]onnxruntime-node['"]/.test(err.message);
    const missing = notInstalled
      ? `onnxruntime-node is not installed: ${INSTALL}`
      : `onnxruntime-node does not load on ${process.platform}/${process.arch} (${err.message.split('\n')[0]}): ${INSTALL}; its npm package ships binaries for Linux (glibc), macOS and Windows on x64 and arm64`;
    availability = { missing };
  }
  if (availability.missing !== undefined && required) throw new Error(`KILN_REQUIRE_ORT=1, but ${availability.missing}`);
  return availability;
}

let loaded: OrtAvailability | undefined;

/** onnxruntime-node, or why not (loaded once). Throws when it is missing and KILN_REQUIRE_ORT=1. */
export function loadOrt(): OrtAvailability {
  loaded ??= checkOrt(() => createRequire(import.meta.url)('onnxruntime-node') as Ort, false);
  if (loaded.missing !== undefined && ortRequired()) throw new Error(`KILN_REQUIRE_ORT=1, but ${loaded.missing}`);
  return loaded;
}

/** onnxruntime-node for code that cannot go on without it: throws the one-line reason when it is missing. */
export function requireOrt(): Ort {
  const { ort, missing } = loadOrt();
  if (!ort) throw new Error(missing);
  return ort;
}

/**
 * For a benchmark or test with an ORT part: the module, or undefined after printing (to stderr, once per `who`)
 * `${who}: ${why it is missing}; ${consequence}`. Throws instead when KILN_REQUIRE_ORT=1.
 */
export function ortOrSkip(who: string, consequence: string): Ort | undefined {
  const { ort, missing } = loadOrt();
  if (ort) return ort;
  if (!warned.has(who)) {
    warned.add(who);
    console.warn(`${who}: ${missing}; ${consequence}`);
  }
  return undefined;
}
const warned = new Set<string>();
