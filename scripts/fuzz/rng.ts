// Seeded randomness for the fuzzers. Every case is a pure function of (campaign seed, target, case index), so a
// crash found an hour into a campaign is made again from its index alone, whatever ran before it; fast-check
// arbitraries (the generators the property tests use) draw from the same stream through fc.sample with a seed.
import fc from 'fast-check';
import { seededRandom } from '../../runtime/random.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in 0..n-1 (0 when n <= 0). */
  int(n: number): number;
  /** Uniform integer in lo..hi, both included. */
  range(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** One value of a fast-check arbitrary, seeded from this stream. */
  sample<T>(arb: fc.Arbitrary<T>): T;
}

/** A uint32 hash of some uint32s (murmur3's finaliser per step): nearby seeds give unrelated streams. */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** FNV-1a over the bytes of a string or byte array (uint32). */
export function hashBytes(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

export function makeRng(seed: number): Rng {
  const next = seededRandom(seed);
  const int = (n: number): number => (n <= 0 ? 0 : Math.floor(next() * n));
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: (items) => items[int(items.length)]!,
    chance: (p) => next() < p,
    sample: (arb) => fc.sample(arb, { seed: int(2 ** 31), numRuns: 1 })[0]!,
  };
}

/** The stream of case `index` of `target` in a campaign started with `seed`. */
export const caseRng = (seed: number, target: string, index: number): Rng => makeRng(mix(seed, hashBytes(target), index, Math.floor(index / 2 ** 32)));

/** Numbers at the edges parsers get wrong: zero, signs, powers of two around int32/uint32/2^53, huge, tiny. */
export const EDGE_NUMBERS: readonly number[] = [
  0, -0, 1, -1, 2, 3, 7, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 53, 2 ** 53 + 2,
  -(2 ** 53), 1e300, -1e300, 0.5, 1e-320, Number.MAX_VALUE,
];

/** Strings that have broken parsers elsewhere: empty, prototype keys, separators, non-ASCII, a long run. */
export const EDGE_STRINGS: readonly string[] = ['', ' ', '__proto__', 'constructor', 'toString', 'NaN', '-', '\u0000', '\n', 'é', '🙂', '..', '/', 'x'.repeat(300)];
