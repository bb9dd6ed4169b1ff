// Values <-> storage bytes, in exactly the layout kernels read and write: f32/i32/u32 as themselves, bool as a
// u32 0/1, f16 as IEEE half bits and bf16 as the upper half of the f32 pattern (two per 32-bit word, element 2k
// in the low half), i64 as 8 bytes, sub-byte integers (i1..i8, u1..u8) packed floor(32/bits) to a u32 word from
// the least significant bit. Little-endian, as WebGPU buffers are. The runtime has its own copy of these few
// dtype facts because it imports nothing from the compiler.

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

/** Bytes that `count` elements occupy (sub-byte types in whole u32 words). */
export function byteLength(dtype: string, count: number): number {
  const l = storageLayoutOf(dtype);
  if (l.kind === 'packed') return Math.ceil(count / Math.floor(32 / l.bits)) * 4;
  return (count * l.bits) / 8;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of x, rounded to nearest even; NaN -> 0x7e00, overflow -> inf. */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  f32[0] = x;
  const b = f32Bits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x7f800000) return sign | 0x7c00;
  const abs = Math.abs(f32[0]!);
  if (abs < 2 ** -14) {
    // Subnormal: the value in units of 2^-24, rounded half to even.
    const q = abs * 2 ** 24;
    let r = Math.round(q);
    if (r - q === 0.5 && r % 2 === 1) r -= 1;
    return sign | r;
  }
  // Normal: round the 23-bit mantissa to 10 bits, half to even; a carry correctly bumps the exponent.
  const rounded = a + 0x0fff + ((a >>> 13) & 1);
  const h = (rounded >>> 13) - ((127 - 15) << 10);
  return h >= 0x7c00 ? sign | 0x7c00 : sign | h;
}

export function f16FromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** bfloat16 bits of x (the upper half of its f32, rounded to nearest even; NaN -> 0x7fc0). */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32[0] = x;
  const b = f32Bits[0]!;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16FromBits(h: number): number {
  f32Bits[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/**
 * Storage bytes of `values` as `dtype`, padded with zeros to `minBytes` (buffers and bindings want multiples of
 * four). Integers are wrapped to the type's width as a GPU would.
 */
export function encode(dtype: string, values: ArrayLike<number>, minBytes = 0): Uint8Array {
  const n = values.length;
  const l = storageLayoutOf(dtype);
  const exact = byteLength(dtype, n);
  const buf = new ArrayBuffer(Math.max(Math.ceil(exact / 4) * 4, Math.ceil(minBytes / 4) * 4));
  switch (l.kind) {
    case 'f32':
      new Float32Array(buf, 0, n).set(values);
      break;
    case 'i32': {
      const a = new Int32Array(buf, 0, n);
      for (let i = 0; i < n; i++) a[i] = values[i]!;
      break;
    }
    case 'u32':
    case 'bool': {
      const a = new Uint32Array(buf, 0, n);
      for (let i = 0; i < n; i++) a[i] = l.kind === 'bool' ? (values[i] ? 1 : 0) : values[i]!;
      break;
    }
    case 'i64': {
      const a = new BigInt64Array(buf, 0, n);
      for (let i = 0; i < n; i++) a[i] = BigInt(Math.trunc(values[i]!));
      break;
    }
    case 'f16':
    case 'bf16': {
      const a = new Uint16Array(buf, 0, n);
      const bits = l.kind === 'f16' ? f16Bits : bf16Bits;
      for (let i = 0; i < n; i++) a[i] = bits(values[i]!);
      break;
    }
    case 'packed': {
      const words = new Uint32Array(buf);
      const lanes = Math.floor(32 / l.bits);
      const mask = 2 ** l.bits - 1;
      for (let i = 0; i < n; i++) {
        const w = Math.floor(i / lanes);
        words[w] = (words[w]! | ((values[i]! & mask) << ((i % lanes) * l.bits))) >>> 0;
      }
    }
  }
  return new Uint8Array(buf);
}

/** The typed array a dtype decodes to: floats -> Float32Array (f16/bf16 widened), bool -> Uint8Array, ints -> the narrowest. */
function arrayFor(dtype: string, n: number): TypedArray {
  const l = storageLayoutOf(dtype);
  if (l.kind === 'f32' || l.kind === 'f16' || l.kind === 'bf16') return new Float32Array(n);
  if (l.kind === 'i64') return new Float64Array(n);
  if (l.kind === 'bool') return new Uint8Array(n);
  if (l.kind === 'packed') return l.signed ? new Int8Array(n) : new Uint8Array(n);
  return l.signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Decode `count` elements of `dtype` from storage bytes (trailing padding is ignored). */
export function decode(dtype: string, bytes: Uint8Array, count: number): TypedArray {
  const need = byteLength(dtype, count);
  if (bytes.byteLength < need) throw new Error(`${count} elements of ${dtype} need ${need} bytes, got ${bytes.byteLength}`);
  // Copy into a fresh buffer so typed views are aligned whatever the source offset.
  const buf = bytes.slice(0, Math.ceil(need / 8) * 8 + 8).buffer;
  const out = arrayFor(dtype, count);
  const l = storageLayoutOf(dtype);
  switch (l.kind) {
    case 'f32':
      out.set(new Float32Array(buf, 0, count));
      break;
    case 'i32':
      out.set(new Int32Array(buf, 0, count));
      break;
    case 'u32':
      out.set(new Uint32Array(buf, 0, count));
      break;
    case 'bool': {
      const a = new Uint32Array(buf, 0, count);
      for (let i = 0; i < count; i++) out[i] = a[i] ? 1 : 0;
      break;
    }
    case 'i64': {
      const a = new BigInt64Array(buf, 0, count);
      for (let i = 0; i < count; i++) out[i] = Number(a[i]!);
      break;
    }
    case 'f16':
    case 'bf16': {
      const a = new Uint16Array(buf, 0, count);
      const from = l.kind === 'f16' ? f16FromBits : bf16FromBits;
      for (let i = 0; i < count; i++) out[i] = from(a[i]!);
      break;
    }
    case 'packed': {
      const words = new Uint32Array(buf);
      const lanes = Math.floor(32 / l.bits);
      const mask = 2 ** l.bits - 1;
      for (let i = 0; i < count; i++) {
        const raw = (words[Math.floor(i / lanes)]! >>> ((i % lanes) * l.bits)) & mask;
        out[i] = l.signed && raw >= 2 ** (l.bits - 1) ? raw - 2 ** l.bits : raw;
      }
    }
  }
  return out;
}
