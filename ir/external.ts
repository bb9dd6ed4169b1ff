// External weights: a constant whose data stays in a file (a safetensors tensor) until someone needs it. The
// graph holds only where the bytes are, so a multi-gigabyte checkpoint compiles without being loaded: the
// packer streams it chunk by chunk, and only the interpreter (on small models) reads a whole tensor.
//
// Node-only (it reads files), so not part of the browser-safe IR core (ir/core.ts); importing it installs
// loadExternal as the interpreter's loader for external constants.
import { closeSync, openSync, readSync } from 'node:fs';
import type { DType } from './dtype.js';
import { roundToDType } from './dtype.js';
import { bf16FromBits, f16FromBits } from '../runtime/f16.js';
import { installExternalLoader } from './interp.js';
import type { ConstantDecl } from './graph.js';
import type { Tensor } from './tensor.js';

/** Element encodings of external data (safetensors' dtype names). */
export type ExternalFormat = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const EXTERNAL_FORMATS: readonly ExternalFormat[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

export const FORMAT_BYTES: Readonly<Record<ExternalFormat, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/**
 * The IR dtype data of a format becomes: F64 narrows to f32 and I64 to i32 (kernels have neither), I16 widens to
 * i32; the rest map one to one.
 */
export const FORMAT_DTYPE: Readonly<Record<ExternalFormat, DType>> = {
  F64: 'f32',
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  I64: 'i32',
  I32: 'i32',
  I16: 'i32',
  I8: 'i8',
  U8: 'u8',
  BOOL: 'bool',
};

export interface ExternalData {
  /** Absolute path of the file holding the bytes. */
  readonly file: string;
  /** Byte offset of the first element in the file, and the byte count. */
  readonly offset: number;
  readonly bytes: number;
  readonly format: ExternalFormat;
  /** The tensor's name in its file (for messages). */
  readonly name: string;
}

/** Whether data in `format` may fill a constant of `dtype`: its own dtype, or f32 for any float (widened on load). */
export function formatFits(format: ExternalFormat, dtype: DType): boolean {
  if (FORMAT_DTYPE[format] === dtype) return true;
  return dtype === 'f32' && (format === 'F16' || format === 'BF16' || format === 'F64');
}

/** Element i of little-endian `format` data starting at bytes[0], as a double (unrounded). */
export function formatReader(format: ExternalFormat, bytes: Uint8Array): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (format) {
    case 'F64':
      return (i) => view.getFloat64(i * 8, true);
    case 'F32':
      return (i) => view.getFloat32(i * 4, true);
    case 'F16':
      return (i) => f16FromBits(view.getUint16(i * 2, true));
    case 'BF16':
      return (i) => bf16FromBits(view.getUint16(i * 2, true));
    case 'I64':
      return (i) => Number(view.getBigInt64(i * 8, true));
    case 'I32':
      return (i) => view.getInt32(i * 4, true);
    case 'I16':
      return (i) => view.getInt16(i * 2, true);
    case 'I8':
      return (i) => view.getInt8(i);
    case 'U8':
      return (i) => bytes[i]!;
    case 'BOOL':
      return (i) => (bytes[i] ? 1 : 0);
  }
}

/** Decode `count` little-endian elements of `format` starting at bytes[0] into doubles (unrounded). */
export function decodeFormat(format: ExternalFormat, bytes: Uint8Array, count: number, out = new Float64Array(count)): Float64Array {
  const read = formatReader(format, bytes);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

export class ExternalDataError extends Error {
  override name = 'ExternalDataError';
}

/** Read `length` bytes at `position` of an open file, failing clearly on a short read (file changed or truncated). */
export function readExactly(fd: number, position: number, length: number, file: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new ExternalDataError(`${file}: ends before byte ${position + length} (truncated or changed since it was opened)`);
    done += n;
  }
  return out;
}

/** An external tensor's file bytes, whole, checked to hold the elements of `shape`. */
export function readExternalBytes(ext: ExternalData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count * FORMAT_BYTES[ext.format] !== ext.bytes)
    throw new ExternalDataError(`${ext.file}: tensor '${ext.name}' holds ${ext.bytes} bytes, not the ${count} ${ext.format} elements of shape [${shape.join(',')}]`);
  const fd = openSync(ext.file, 'r');
  try {
    return readExactly(fd, ext.offset, ext.bytes, ext.file);
  } finally {
    closeSync(fd);
  }
}

/** Load an external tensor whole, as the interpreter needs it; values checked to fit `dtype` when narrowed. */
export function loadExternal(ext: ExternalData, dtype: DType, shape: readonly number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = decodeFormat(ext.format, readExternalBytes(ext, shape), count);
  if (ext.format === 'I64')
    for (let i = 0; i < count; i++)
      if (data[i]! < -(2 ** 31) || data[i]! > 2 ** 31 - 1)
        throw new ExternalDataError(`${ext.file}: tensor '${ext.name}' value ${data[i]} at index ${i} does not fit i32 (kiln narrows I64 to i32)`);
  for (let i = 0; i < count; i++) data[i] = narrowExternal(data[i]!, dtype, ext, i);
  return { dtype, shape: [...shape], data };
}

/**
 * `v` (element `index` of `ext`) rounded to `dtype`, refusing a finite value that only an infinity can hold (an
 * F32 or BF16 weight over 65504 stored as f16): silent infinities would poison every output they reach.
 */
export function narrowExternal(v: number, dtype: DType, ext: ExternalData, index: number): number {
  const r = roundToDType(v, dtype);
  if (Number.isFinite(v) && !Number.isFinite(r))
    throw new ExternalDataError(`${ext.file}: tensor '${ext.name}' value ${v} at index ${index} overflows ${dtype}; keep this weight in a wider type (compile without --weights-dtype ${dtype})`);
  return r;
}

installExternalLoader(loadExternal);

/** A constant's values: inline, or read from the file it is still in. */
export function constantValue(c: ConstantDecl): Tensor {
  if (c.value) return c.value;
  if (!c.external) throw new Error(`constant %${c.name} has neither a value nor a file (unbound parameter)`);
  return loadExternal(c.external, c.type.dtype, c.type.shape as number[]);
}
