// The float64 reference y = x . A^T that every engine's output is checked against, and the error measure.
// A is walked by its non-zeros only (a 95 %-sparse 11008 x 4096 weight costs a twentieth of the dense product),
// with x transposed so the innermost loop runs over contiguous rows of x: the whole reference for N = 64 takes
// seconds, not minutes, in plain JS.

/** y[n, m] = sum_k x[n, k] * a[m, k] in float64, for the first `rows` rows of x. */
export function referenceProduct(a: Float32Array, m: number, k: number, x: Float32Array, rows: number): Float64Array {
  const xT = new Float64Array(k * rows);
  for (let n = 0; n < rows; n++) for (let c = 0; c < k; c++) xT[c * rows + n] = x[n * k + c]!;
  const y = new Float64Array(rows * m);
  const acc = new Float64Array(rows);
  for (let r = 0; r < m; r++) {
    acc.fill(0);
    const rowStart = r * k;
    for (let c = 0; c < k; c++) {
      const v = a[rowStart + c]!;
      if (v === 0) continue;
      const base = c * rows;
      for (let n = 0; n < rows; n++) acc[n] += v * xT[base + n]!;
    }
    for (let n = 0; n < rows; n++) y[n * m + r] = acc[n]!;
  }
  return y;
}

/**
 * max |got - ref| / max |ref| over the first `count` values: an error relative to the output's scale, so a
 * near-zero output does not blow it up. NaN anywhere in `got` gives Infinity.
 */
export function relativeError(got: ArrayLike<number>, ref: Float64Array, count: number): number {
  if (got.length < count) return Infinity;
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < count; i++) {
    const d = Math.abs(got[i]! - ref[i]!);
    if (Number.isNaN(d)) return Infinity;
    worst = Math.max(worst, d);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return scale > 0 ? worst / scale : worst;
}

/**
 * Tolerances. An f32 output meets the brief's 1e-4. An f16 output cannot: rounding the result alone moves a value
 * in [2^e, 2^(e+1)) by up to half an ulp, 2^(e-11), i.e. up to 2^-11 ~ 4.9e-4 of max|ref|. One f16 ulp of the
 * largest output (2^-10 ~ 9.8e-4 of it) leaves room for the f32 accumulation on top of that rounding.
 */
export const TOLERANCE = { f32: 1e-4, f16: 2 ** -10 } as const;
