// Valid safetensors files from small specs, and the pieces of one (header JSON, data section) to damage and
// reassemble: the generators of the safetensors property tests (test/import/safetensors-fuzz.test.ts) and of the
// safetensors fuzz target.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { EXTERNAL_FORMATS, type ExternalFormat, FORMAT_BYTES } from '../../ir/external.js';
import { writeSafetensors } from '../../ir/import/safetensors/index.js';

export interface Spec {
  readonly name: string;
  readonly format: ExternalFormat;
  readonly shape: number[];
  readonly seed: number;
}

export const arbSpecs = fc.uniqueArray(
  fc.record({
    name: fc.string({ unit: 'binary', maxLength: 10 }).filter((n) => n !== '__metadata__'),
    format: fc.constantFrom(...EXTERNAL_FORMATS),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    seed: fc.integer({ min: 0, max: 255 }),
  }),
  { selector: (t) => t.name, maxLength: 6 },
);

export const arbMetadata = fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), { nil: undefined });

/** Any JSON as a header, and objects shaped like headers with values of any type or range. */
export const arbAnyHeader = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(
    fc.string({ maxLength: 4 }),
    fc.record({
      dtype: fc.oneof(fc.constantFrom(...EXTERNAL_FORMATS, 'F8_E5M2', 'X'), fc.jsonValue()),
      shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }), fc.jsonValue()),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 64 }), fc.integer({ min: -1, max: 64 })), fc.jsonValue()),
    }),
    { maxKeys: 4 },
  ),
);

export const byteCount = (s: Spec): number => s.shape.reduce((a, b) => a * b, 1) * FORMAT_BYTES[s.format];
export const bytesOf = (s: Spec): Uint8Array => Uint8Array.from({ length: byteCount(s) }, (_, i) => (s.seed + i * 31) & 255);

/** Write the specs with the writer (chunks of 3 bytes) and return the file's bytes. */
export function writeValid(path: string, specs: readonly Spec[], metadata?: Record<string, string>): Uint8Array {
  writeSafetensors(
    path,
    specs.map((s) => ({
      name: s.name,
      format: s.format,
      shape: s.shape,
      *chunks() {
        const b = bytesOf(s);
        for (let at = 0; at < b.length; at += 3) yield b.subarray(at, at + 3);
      },
    })),
    metadata,
  );
  return new Uint8Array(readFileSync(path));
}

export type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;

/** The parts of a valid file: header JSON (parsed) and data section. */
export function split(bytes: Uint8Array): { header: Header; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

/** A file from a header (any JSON, or its text as given) and a data section; `headerLength` overrides the prefix. */
export function assemble(header: unknown, data: Uint8Array, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}
