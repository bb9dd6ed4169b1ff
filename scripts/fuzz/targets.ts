// The fuzz targets: per input format, how a case is made and which of kiln's entry points it is fed to. The
// registry only names modules (loaded on demand, in the child process that runs the cases), so the parent and a
// child running one target do not load the whole compiler for nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rng } from './rng.js';

export interface FuzzTarget {
  /** One line on what the cases are made from (which real files were found, what is generated). */
  readonly corpus: string;
  /** Case `index`: the bytes fed to the parser (text formats as UTF-8). Deterministic in `rng`. */
  generate(rng: Rng, index: number): Uint8Array;
  /**
   * Feed one case to kiln. Returns when kiln accepted it; throws what kiln threw otherwise (a typed user error
   * is an acceptable outcome, anything else a crash). A plain Error thrown here is a broken promise of an
   * accepted result (an unsound shape, a range outside the file), which counts as a crash too.
   */
  exercise(input: Uint8Array): void;
}

interface Entry {
  /** Extension of the saved reproducers. */
  readonly ext: string;
  /** Build the target: read or generate its seed corpus (once per child process). */
  readonly load: () => Promise<FuzzTarget>;
  /** Hidden targets prove the runner's crash detection; `all` leaves them out. */
  readonly hidden?: boolean;
}

export const TARGETS: Readonly<Record<string, Entry>> = {
  onnx: { ext: 'onnx', load: async () => (await import('./target-onnx.js')).onnxTarget() },
  safetensors: { ext: 'safetensors', load: async () => (await import('./target-safetensors.js')).safetensorsTarget() },
  kir: { ext: 'kir', load: async () => (await import('./target-kir.js')).kirTarget() },
  config: { ext: 'json', load: async () => (await import('./target-config.js')).configTarget() },
  manifest: { ext: 'json', load: async () => (await import('./target-manifest.js')).manifestTarget() },
  npy: { ext: 'npy', load: async () => (await import('./target-npy.js')).npyTarget() },
  json: { ext: 'json', load: async () => (await import('./target-json.js')).jsonTarget() },
  'selftest-crash': { ext: 'case', load: async () => (await import('./target-selftest.js')).selftestTarget(), hidden: true },
};

export const PUBLIC_TARGETS: readonly string[] = Object.keys(TARGETS).filter((t) => !TARGETS[t]!.hidden);

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/**
 * A fresh folder for a target's files. Under a campaign it is inside the host's scratch folder (KILN_FUZZ_SCRATCH),
 * removed when the campaign ends even though children are killed without a chance to clean up.
 */
export const scratchDir = (target: string): string => mkdtempSync(join(process.env.KILN_FUZZ_SCRATCH ?? tmpdir(), `kiln-fuzz-${target}-`));
