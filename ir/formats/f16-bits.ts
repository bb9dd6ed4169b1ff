// IEEE binary16 bit patterns of doubles, rounded once, to nearest even, as if straight from the double: the
// interpreter's f16 values come from roundF16 (ir/dtype.ts), so packed weights must agree with it bit for bit.
// The reverse direction is halfToNumber in ir/import/onnx/tensor-proto.ts.

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * The f16 bits of x rounded to nearest, ties to even; overflow gives ±inf and NaN gives 0x7e00. Allocation free,
 * for encoding tens of millions of weights.
 *
 * It goes through f32 because that is cheap, and undoes the one way rounding twice can go wrong: when rounding
 * to f32 lands exactly on a midpoint between two f16 values although x was not there, the side x was on decides.
 */
export function f16BitsOf(x: number): number {
  f32[0] = x;
  const b = f32Bits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a >= 0x7f800000) return a > 0x7f800000 ? 0x7e00 : sign | 0x7c00;
  if (a < 0x38800000) {
    // Below 2^-14 f16 is subnormal: a whole number of 2^-24 quanta, rounded from the double itself (scaling by a
    // power of two is exact). 1024 quanta is the smallest normal, whose bits 0x0400 the same formula yields.
    const q = Math.abs(x) * 2 ** 24;
    let r = Math.round(q);
    if (r - q === 0.5 && (r & 1) === 1) r -= 1;
    return sign | r;
  }
  // Drop the low 13 of the 23 mantissa bits, ties to even; a carry bumps the exponent, up to inf at the top.
  let rounded: number;
  if ((a & 0x1fff) === 0x1000 && f32[0] !== x) rounded = Math.abs(x) > Math.abs(f32[0]!) ? a + 0x1000 : a;
  else rounded = a + 0x0fff + ((a >>> 13) & 1);
  const h = (rounded >>> 13) - ((127 - 15) << 10);
  return sign | Math.min(h, 0x7c00);
}
