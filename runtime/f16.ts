// The one home of kiln's 16-bit float encodings: IEEE binary16 (f16) and bfloat16 (bf16), double <-> bits. The
// runtime codec (codec.ts), the interpreter's rounding (ir/dtype.ts roundToDType), the importers' decoders,
// Tiled-CSL packing and the WGSL printer all call these, so values and storage bytes cannot disagree.
//
// It lives in the runtime, which imports nothing of ours and ships in every artifact, as part of the artifact
// contract (how f16/bf16 bytes read); the compiler side imports it from here. A dependency-free leaf: it imports
// nothing, so the IR core that imports it still loads in a browser. Keep it that way.
//
// Encoding rounds once, straight from the double, to nearest with ties to even. It goes through f32 because that
// is cheap (allocation free, fast enough for tens of millions of weights), and undoes the one way rounding twice
// can go wrong: when rounding to f32 lands exactly on a midpoint between two 16-bit values although x was not
// there (1 + 2^-11 + 2^-40 lands on 1 + 2^-11 and would go to even, 0x3c00, not 0x3c01), the side x was on decides.

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
/** 2^(e - 25) for each f16 exponent field e (2^-24, the subnormal quantum, for e = 0): value = mantissa * scale. */
const F16_SCALE = new Float64Array(32);
for (let e = 0; e < 32; e++) F16_SCALE[e] = 2 ** (Math.max(e, 1) - 25);

/** IEEE binary16 bits of x, rounded once to nearest even; overflow (|x| >= 65520) gives ±inf, NaN gives 0x7e00. */
export function f16Bits(x: number): number {
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
  return sign | Math.min((rounded >>> 13) - ((127 - 15) << 10), 0x7c00);
}

/** The value of binary16 bits h (exact as a double). */
export function f16FromBits(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0x1f ? (m ? NaN : Infinity) : (e ? 1024 + m : m) * F16_SCALE[e]!;
  return h & 0x8000 ? -v : v;
}

/**
 * bfloat16 bits of x (the upper half of its f32 pattern), rounded once to nearest even; NaN gives 0x7fc0. f32
 * rounding never reaches inf unless bf16 rounding would (f32's largest value is past bf16's last midpoint).
 */
export function bf16Bits(x: number): number {
  if (x !== x) return 0x7fc0;
  f32[0] = x;
  const b = f32Bits[0]!;
  let rounded: number;
  if ((b & 0xffff) === 0x8000 && f32[0] !== x) rounded = Math.abs(x) > Math.abs(f32[0]!) ? b + 0x8000 : b;
  else rounded = b + 0x7fff + ((b >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

/** The value of bfloat16 bits h (exact as a double). */
export function bf16FromBits(h: number): number {
  f32Bits[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** x rounded to the nearest f16 value, as a double: NaN, ±0 and ±inf kept, overflow to ±inf. */
export function roundF16(x: number): number {
  return x !== x ? x : f16FromBits(f16Bits(x));
}

/** x rounded to the nearest bf16 value, as a double: NaN, ±0 and ±inf kept, overflow to ±inf. */
export function roundBF16(x: number): number {
  return x !== x ? x : bf16FromBits(bf16Bits(x));
}
