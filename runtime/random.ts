// A small seeded generator of uniform numbers (mulberry32): fast, well mixed for its size, and the same on every
// platform, so a seed names one exact stream. Sampling draws from it; tests and benchmarks use it for data.

/** A stream of uniform numbers in [0, 1) determined by `seed` (taken as a uint32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
