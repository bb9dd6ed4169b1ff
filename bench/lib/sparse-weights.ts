// The sparse benchmark's data: a seeded random weight A[M, K] and activations x[N, K], every value already
// rounded to f16 (so the float64 reference multiplies exactly the numbers the kernels read), and magnitude
// pruning of A to an exact sparsity.
import { roundF16 } from '../../ir/index.js';
import { seededRandom } from '../../runtime/random.js';

const F16_MIN_NORMAL = 2 ** -14;
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * v moved onto the f16 grid, at least f16's smallest normal in magnitude: an exact zero would make the unpruned
 * weight count as sparse to the compiler (which would then encode and cost it), and the dense baseline is meant
 * to be a plain dense Gemm. Cheap enough for 45M weights (roundF16 takes seconds more): the f32 bit pattern with
 * its low 13 mantissa bits rounded off is an f16 value for any normal-range f16 magnitude. Going through f32 can
 * round a rare tie differently from a direct rounding; any f16 value will do for a random weight.
 */
function f16Weight(v: number): number {
  f32[0] = Math.abs(v) >= F16_MIN_NORMAL ? v : v < 0 ? -F16_MIN_NORMAL : F16_MIN_NORMAL;
  const b = f32Bits[0]!;
  f32Bits[0] = (b + 0x0fff + ((b >>> 13) & 1)) & 0xffffe000;
  return f32[0]!;
}

/**
 * A[M, K] row-major like a Linear weight: normal with standard deviation 1/sqrt(K) (the usual initialisation
 * scale, so y = x . A^T stays O(1) and far from f16 overflow), on the f16 grid (f16Weight).
 */
export function randomWeight(m: number, k: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  const std = 1 / Math.sqrt(k);
  const a = new Float32Array(m * k);
  for (let i = 0; i < a.length; i += 2) {
    // Box-Muller: two normals per pair of uniforms (1 - u keeps the logarithm finite).
    const radius = std * Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    a[i] = f16Weight(radius * Math.cos(angle));
    if (i + 1 < a.length) a[i + 1] = f16Weight(radius * Math.sin(angle));
  }
  return a;
}

/** x[rows, k] uniform in [-1, 1), rounded to f16. The benchmark's smaller N use the first rows. */
export function randomActivations(rows: number, k: number, seed: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: rows * k }, () => roundF16(next() * 2 - 1));
}

/**
 * Magnitude pruning to exactly round(sparsity * count) zeros: the smallest |a| go first, ties (f16 values repeat
 * a lot) broken by position. A histogram over the magnitudes' f32 bit patterns finds the cut without sorting 45M
 * values: positive floats order like their bits, and f16-rounded values use only the top 18 of the 31 bits.
 * Pruning the same weight at a higher sparsity zeroes a superset, as pruning a real model would.
 */
export function pruneByMagnitude(a: Float32Array, sparsity: number): Float32Array {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const key = (i: number): number => (bits[i]! & 0x7fffffff) >>> 13;
  const histogram = new Uint32Array(1 << 18);
  for (let i = 0; i < a.length; i++) histogram[key(i)]!++;
  let toPrune = Math.round(sparsity * a.length);
  let cut = 0;
  while (cut < histogram.length && histogram[cut]! <= toPrune) toPrune -= histogram[cut++]!;
  // Every key below `cut` goes; `toPrune` more go from the key at `cut`, first positions first.
  const out = new Float32Array(a);
  for (let i = 0; i < out.length; i++) {
    const kk = key(i);
    if (kk < cut) out[i] = 0;
    else if (kk === cut && toPrune > 0) {
      out[i] = 0;
      toPrune--;
    }
  }
  return out;
}

/** A^T as [K, M] row-major (ONNX MatMul's right operand). */
export function transpose(a: Float32Array, m: number, k: number): Float32Array {
  const t = new Float32Array(m * k);
  // Blocked, so both sides stay in cache for an 11008 x 4096 matrix.
  const B = 64;
  for (let r0 = 0; r0 < m; r0 += B)
    for (let c0 = 0; c0 < k; c0 += B)
      for (let r = r0; r < Math.min(m, r0 + B); r++) for (let c = c0; c < Math.min(k, c0 + B); c++) t[c * m + r] = a[r * k + c]!;
  return t;
}
