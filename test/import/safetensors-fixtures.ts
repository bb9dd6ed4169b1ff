// Fixtures of the safetensors tests (safetensors*.test.ts): a temporary folder per test file, test values encoded
// independently of the decoder under test, tensors whose chunks come in uneven pieces, and hand-made files with
// the error their opening gives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { type ExternalFormat, FORMAT_BYTES } from '../../ir/external.js';
import { openCheckpoint, SafetensorsError, type TensorToWrite } from '../../ir/import/safetensors/index.js';

export const root = mkdtempSync(join(tmpdir(), 'kiln-safetensors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh path (or folder) under the test's temporary root. */
export const fresh = (name: string): string => join(root, `${counter++}-${name}`);

// ---------------------------------------------------------------------------------------------------------------
// Encoding test values: independent of the decoder under test (bit patterns for the 16-bit floats are literal).

/** Values each format holds exactly (and that survive loading as FORMAT_DTYPE[format]). */
const SAMPLES: Record<ExternalFormat, readonly number[]> = {
  F64: [0, 1.5, -2.25, 1024.125, -0.0078125],
  F32: [0, 1.5, -3.75, Math.fround(3.4e38), Math.fround(1e-30)],
  F16: [0, 1, -2, 0.5, -0.25, 65504, 2 ** -14, 2 ** -24],
  BF16: [0, 1, -2, 0.5, 3, -1.5, 2 ** 100, -(2 ** -100)],
  I64: [0, -1, 2 ** 31 - 1, -(2 ** 31), 12345],
  I32: [0, -1, 2 ** 31 - 1, -(2 ** 31), 7],
  I16: [0, -1, 32767, -32768, 300],
  I8: [0, -1, 127, -128, 5],
  U8: [0, 255, 1, 128, 77],
  BOOL: [0, 1, 1, 0, 1],
};

const F16_BITS = new Map<number, number>([
  [0, 0x0000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [-0.25, 0xb400],
  [65504, 0x7bff],
  [2 ** -14, 0x0400],
  [2 ** -24, 0x0001],
]);

function encode(format: ExternalFormat, values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * FORMAT_BYTES[format]);
  const v = new DataView(bytes.buffer);
  values.forEach((x, i) => {
    switch (format) {
      case 'F64': return v.setFloat64(i * 8, x, true);
      case 'F32': return v.setFloat32(i * 4, x, true);
      case 'F16': return v.setUint16(i * 2, F16_BITS.get(x)!, true);
      case 'BF16': {
        const f32 = new DataView(new ArrayBuffer(4));
        f32.setFloat32(0, x);
        expect(f32.getUint16(2)).toBe(0); // the sample must be exact in bf16
        return v.setUint16(i * 2, f32.getUint16(0), true);
      }
      case 'I64': return v.setBigInt64(i * 8, BigInt(x), true);
      case 'I32': return v.setInt32(i * 4, x, true);
      case 'I16': return v.setInt16(i * 2, x, true);
      case 'I8': return v.setInt8(i, x);
      case 'U8':
      case 'BOOL': return v.setUint8(i, x);
    }
  });
  return bytes;
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
export const valuesFor = (format: ExternalFormat, shape: readonly number[]) =>
  Array.from({ length: numel(shape) }, (_, i) => SAMPLES[format][i % SAMPLES[format].length]!);

/** Cut bytes into uneven chunks (1, 2, 0, 5, 3, 1, ...), so the writer sees empty and odd-sized pieces. */
function* unevenChunks(bytes: Uint8Array): Iterable<Uint8Array> {
  const sizes = [1, 2, 0, 5, 3, 1, 8, 13];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

export function tensor(name: string, format: ExternalFormat, shape: number[], values = valuesFor(format, shape)): TensorToWrite & { values: number[] } {
  const bytes = encode(format, values);
  return { name, format, shape, values, chunks: () => unevenChunks(bytes) };
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-made files, for what the writer never produces.

/** 8-byte length + header (object -> JSON, string as is) + data (bytes or a count of zeros). */
export function rawFile(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + dataBytes.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(dataBytes, 8 + json.length);
  return out;
}

export function writeRaw(bytes: Uint8Array, name = 'raw.safetensors'): string {
  const path = fresh(name);
  writeFileSync(path, bytes);
  return path;
}

/** The SafetensorsError message opening `path` throws (the test fails if it opens, or throws something else). */
export function openError(path: string): string {
  try {
    openCheckpoint(path);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as Error).message;
  }
  throw new Error(`expected opening ${path} to fail`);
}

export const rawError = (header: unknown, data: Uint8Array | number = 0, headerLength?: bigint) => {
  const path = writeRaw(rawFile(header, data, headerLength));
  return { path, message: openError(path) };
};

export const entry = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
