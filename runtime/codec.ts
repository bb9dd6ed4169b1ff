// Values <-> storage bytes, in exactly the layout kernels read and write: f32/i32/u32 as themselves, bool as a
// u32 0/1, f16 as IEEE half bits and bf16 as the upper half of the f32 pattern (two per 32-bit word, element 2k
// in the low half), i64 as 8 bytes, sub-byte integers (i1..i8, u1..u8) packed floor(32/bits) to a u32 word from
// the least significant bit. Little-endian, as WebGPU buffers are. The runtime has its own copy of these few
// dtype facts because it imports nothing from the compiler.
// f16/bf16 values <-> bits come from f16.ts, kiln's single encoder and decoder.
import { bf16Bits, bf16FromBits, f16Bits, f16FromBits } from './f16.js';

export { bf16Bits, bf16FromBits, f16Bits, f16FromBits };

export type TypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

interface Layout {
  readonly kind: 'f32' | 'i32' | 'u32' | 'bool' | 'f16' | 'bf16' | 'i64' | 'packed';
  readonly bits: number;
  readonly signed: boolean;
}

export function storageLayoutOf(dtype: string): Layout {
  switch (dtype) {
    case 'f32':
    case 'i32':
    case 'u32':
    case 'bool':
      return { kind: dtype, bits: 32, signed: dtype !== 'u32' && dtype !== 'bool' };
    case 'f16':
    case 'bf16':
      return { kind: dtype, bits: 16, signed: true };
    case 'i64':
      return { kind: 'i64', bits: 64, signed: true };
  }
  const m = /^([iu])([1-8])$/.exec(dtype);
  if (!m) throw new Error(`unknown dtype '${dtype}'`);
  return { kind: 'packed', bits: Number(m[2]), signed: m[1] === 'i' };
}

/** n rounded up to a multiple of 4 (buffer writes and copies move whole words). */
export const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;
/** ceil4(n), and at least 4: the size of a buffer or binding holding n bytes (WebGPU has no empty ones). */
export const pad4 = (n: number): number => Math.max(4, ceil4(n));

/** Bytes that `count` elements occupy (sub-byte types in whole u32 words). */
export function byteLength(dtype: string, count: number): number {
  const l = storageLayoutOf(dtype);
  if (l.kind === 'packed') return Math.ceil(count / Math.floor(32 / l.bits)) * 4;
  return (count * l.bits) / 8;
}

/** Element access to any typed array (BigInt64Array included), for code shared across dtypes. */
interface Elements {
  [i: number]: number | bigint;
  set(values: ArrayLike<number>): void;
}

/** The view of storage elements of an unpacked layout: each element one entry of the view. */
function storageView(l: Layout, buf: ArrayBuffer, n: number): Elements {
  const View = l.kind === 'f32' ? Float32Array : l.kind === 'i64' ? BigInt64Array : l.bits === 16 ? Uint16Array : l.kind === 'i32' ? Int32Array : Uint32Array;
  return new View(buf, 0, n) as unknown as Elements;
}

/**
 * Storage bytes of `values` as `dtype`, padded with zeros to `minBytes` (buffers and bindings want multiples of
 * four). Integers are wrapped to the type's width as a GPU would.
 */
export function encode(dtype: string, values: ArrayLike<number>, minBytes = 0): Uint8Array {
  const n = values.length;
  const l = storageLayoutOf(dtype);
  const buf = new ArrayBuffer(Math.max(ceil4(byteLength(dtype, n)), ceil4(minBytes)));
  if (l.kind === 'packed') {
    const words = new Uint32Array(buf);
    const lanes = Math.floor(32 / l.bits);
    const mask = 2 ** l.bits - 1;
    for (let i = 0; i < n; i++) {
      const w = Math.floor(i / lanes);
      words[w] = (words[w]! | ((values[i]! & mask) << ((i % lanes) * l.bits))) >>> 0;
    }
  } else {
    // f32, i32 and u32 convert (wrapping integers) as typed arrays store; the rest map each value.
    const a = storageView(l, buf, n);
    if (l.bits === 16) {
      const bits = l.kind === 'f16' ? f16Bits : bf16Bits;
      for (let i = 0; i < n; i++) a[i] = bits(values[i]!);
    } else if (l.kind === 'bool') for (let i = 0; i < n; i++) a[i] = values[i] ? 1 : 0;
    else if (l.kind === 'i64') for (let i = 0; i < n; i++) a[i] = BigInt(Math.trunc(values[i]!));
    else a.set(values);
  }
  return new Uint8Array(buf);
}

/** The typed array a dtype decodes to: floats -> Float32Array (f16/bf16 widened), bool -> Uint8Array, ints -> the narrowest. */
function arrayFor(l: Layout, n: number): TypedArray {
  if (l.kind === 'f32' || l.bits === 16) return new Float32Array(n);
  if (l.kind === 'i64') return new Float64Array(n);
  if (l.kind === 'bool' || l.kind === 'packed') return l.signed ? new Int8Array(n) : new Uint8Array(n);
  return l.signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Decode `count` elements of `dtype` from storage bytes (trailing padding is ignored). */
export function decode(dtype: string, bytes: Uint8Array, count: number): TypedArray {
  const need = byteLength(dtype, count);
  if (bytes.byteLength < need) throw new Error(`${count} elements of ${dtype} need ${need} bytes, got ${bytes.byteLength}`);
  // Copy into a fresh buffer so typed views are aligned whatever the source offset.
  const buf = bytes.slice(0, Math.ceil(need / 8) * 8 + 8).buffer;
  const l = storageLayoutOf(dtype);
  const out = arrayFor(l, count);
  if (l.kind === 'packed') {
    const words = new Uint32Array(buf);
    const lanes = Math.floor(32 / l.bits);
    const mask = 2 ** l.bits - 1;
    for (let i = 0; i < count; i++) {
      const raw = (words[Math.floor(i / lanes)]! >>> ((i % lanes) * l.bits)) & mask;
      out[i] = l.signed && raw >= 2 ** (l.bits - 1) ? raw - 2 ** l.bits : raw;
    }
  } else {
    const a = storageView(l, buf, count);
    const from = l.kind === 'f16' ? f16FromBits : l.kind === 'bf16' ? bf16FromBits : l.kind === 'bool' ? (v: number) => +!!v : l.kind === 'i64' ? Number : undefined;
    if (from) for (let i = 0; i < count; i++) out[i] = from(a[i] as number);
    else out.set(a as unknown as ArrayLike<number>);
  }
  return out;
}
