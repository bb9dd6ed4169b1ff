// Reproducible benchmark data and the benches' float64 reference product.

/** n uniform values in [-scale/2, scale/2) from a 32-bit LCG seeded with `seed`. */
export function random(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale);
}

/** The float64 product y[N, M] = x[N, K] . W^T of a Linear weight W[M, K]: the benches' reference. */
export function linearReference(w: Float32Array, x: Float32Array, m: number, k: number, n: number): Float64Array {
  const ref = new Float64Array(n * m);
  for (let t = 0; t < n; t++)
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += w[r * k + c]! * x[t * k + c]!;
      ref[t * m + r] = s;
    }
  return ref;
}
