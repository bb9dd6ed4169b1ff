// Tensor <-> storage bytes, in exactly the layout kernels read and write (see wgsl/accessor.ts): f32/i32/u32 as
// themselves, bool as a u32 0/1, f16 as IEEE half bits and bf16 as the upper half of the f32 pattern (two per
// 32-bit word, element 2k in the low half), i64 as 8 bytes, sub-byte integers packed lanesPerWord to a u32 word
// from the least significant bit. Little-endian, as WebGPU buffers are.
import { type DType, dtypeInfo, isSubByte, roundBF16, roundF16, storageBytes } from '../ir/dtype.js';
import { numel } from '../ir/shape.js';
import { type Tensor, makeTensor } from '../ir/tensor.js';

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** IEEE binary16 bit pattern of x, rounded to nearest even (NaN -> 0x7e00). */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const v = roundF16(x);
  f32[0] = v;
  const b = f32Bits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x7f800000) return sign | 0x7c00;
  if (a >= 0x38800000) return sign | ((a - 0x38000000) >>> 13);
  return sign | Math.round(Math.abs(v) * 2 ** 24);
}

export function f16FromBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** bfloat16 bit pattern of x (the upper half of its f32, rounded to nearest even; NaN -> 0x7fc0). */
export function bf16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  f32[0] = roundBF16(x);
  return f32Bits[0]! >>> 16;
}

export function bf16FromBits(h: number): number {
  f32Bits[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/**
 * The storage bytes of a tensor. `align4` pads the length up to a multiple of 4 (and at least 4), as GPU buffer
 * writes and bindings need; the padding is zero.
 */
export function encodeTensor(t: Tensor, opts: { align4?: boolean } = {}): Uint8Array {
  const n = t.data.length;
  const exact = storageBytes(t.dtype, n);
  const size = opts.align4 ? Math.max(4, Math.ceil(exact / 4) * 4) : exact;
  const buf = new ArrayBuffer(Math.ceil(size / 4) * 4 || 4);
  const d = t.data;
  switch (t.dtype) {
    case 'f32':
      new Float32Array(buf).set(d.subarray(0, n));
      break;
    case 'i32':
      new Int32Array(buf).set(d);
      break;
    case 'u32':
    case 'bool':
      new Uint32Array(buf).set(d);
      break;
    case 'i64': {
      const w = new BigInt64Array(new ArrayBuffer(n * 8));
      for (let i = 0; i < n; i++) w[i] = BigInt(d[i]!);
      return new Uint8Array(w.buffer);
    }
    case 'f16':
    case 'bf16': {
      const h = new Uint16Array(buf);
      const bits = t.dtype === 'f16' ? f16Bits : bf16Bits;
      for (let i = 0; i < n; i++) h[i] = bits(d[i]!);
      break;
    }
    default: {
      if (!isSubByte(t.dtype)) throw new Error(`cannot encode dtype ${t.dtype}`);
      const { bits, lanesPerWord: lanes } = dtypeInfo(t.dtype);
      const words = new Uint32Array(buf);
      const mask = 2 ** bits - 1;
      for (let i = 0; i < n; i++) {
        const w = Math.floor(i / lanes);
        words[w] = (words[w]! | ((d[i]! & mask) << ((i % lanes) * bits))) >>> 0;
      }
    }
  }
  return new Uint8Array(buf, 0, size);
}

/** The tensor whose storage bytes are `bytes` (extra trailing bytes, e.g. padding, are ignored). */
export function decodeTensor(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const n = numel(shape);
  const need = storageBytes(dtype, n);
  if (bytes.byteLength < need) throw new Error(`${dtype}[${shape.join(',')}] needs ${need} bytes, got ${bytes.byteLength}`);
  // Copy into an aligned buffer so typed views are legal whatever the source offset.
  const buf = new ArrayBuffer(Math.ceil(need / 8) * 8 + 8);
  new Uint8Array(buf).set(bytes.subarray(0, need));
  let get: (i: number) => number;
  switch (dtype) {
    case 'f32': {
      const a = new Float32Array(buf);
      get = (i) => a[i]!;
      break;
    }
    case 'i32': {
      const a = new Int32Array(buf);
      get = (i) => a[i]!;
      break;
    }
    case 'u32':
    case 'bool': {
      const a = new Uint32Array(buf);
      get = (i) => a[i]!;
      break;
    }
    case 'i64': {
      const a = new BigInt64Array(buf);
      get = (i) => Number(a[i]!);
      break;
    }
    case 'f16':
    case 'bf16': {
      const a = new Uint16Array(buf);
      const from = dtype === 'f16' ? f16FromBits : bf16FromBits;
      get = (i) => from(a[i]!);
      break;
    }
    default: {
      if (!isSubByte(dtype)) throw new Error(`cannot decode dtype ${dtype}`);
      const { bits, lanesPerWord: lanes, signed } = dtypeInfo(dtype);
      const words = new Uint32Array(buf);
      const mask = 2 ** bits - 1;
      get = (i) => {
        const raw = (words[Math.floor(i / lanes)]! >>> ((i % lanes) * bits)) & mask;
        return signed && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
      };
    }
  }
  return makeTensor(dtype, shape, get);
}
