// Reproducible benchmark data: n uniform values in [-scale/2, scale/2) from a 32-bit LCG seeded with `seed`.
export function random(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * scale);
}
