// Matrices for the Tiled-CSL tests: tile parameters over the whole allowed range, ragged and whole-tile sizes,
// sparsity from 0 to 100 %, and values that stress the format's edges (-0, magnitudes that round to zero in f16,
// f16 ties and overflow, infinities), plus what decoding must give back, computed without the format's code.
import fc from 'fast-check';
import { type TiledCslParams, roundF16 } from '../../ir/index.js';
import { seededRandom } from '../../runtime/random.js';

export { seededRandom };

export interface MatrixCase {
  readonly m: number;
  readonly k: number;
  readonly params: TiledCslParams;
  /** A, row-major. */
  readonly a: Float64Array;
}

const TILE_KS = [8, 16, 32, 64, 128, 256] as const;
const TILE_MS = [1, 2, 3, 5, 8, 16, 32, 64, 128, 256] as const;

/** Every tileK, tileM including 1 and odd sizes, with tileM*tileK up to the 16-bit location limit (256x256). */
export const arbTileParams: fc.Arbitrary<TiledCslParams> = fc
  .record({
    tileK: fc.constantFrom(...TILE_KS),
    tileM: fc.constantFrom(...TILE_MS),
    values: fc.constantFrom('f16' as const, 'f32' as const),
  })
  .filter((p) => p.tileM * p.tileK <= 65536);

/** A dim along a tile edge: ragged (any size up to 3 tiles) or a whole number of tiles, at most `cap`. */
const arbDim = (tile: number, cap: number): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 1, max: Math.min(3 * tile, cap) }),
    fc.integer({ min: 1, max: Math.max(1, Math.floor(cap / tile)) }).map((b) => b * tile),
  );

/** Fractions of zeros: the paper's list and anything in between. */
const arbSparsity = fc.oneof(fc.constantFrom(0, 0.5, 0.8, 0.9, 0.99, 1), fc.double({ min: 0, max: 1, noNaN: true }));

/** Non-zero values that probe rounding: each is a hazard for one value type or the other. */
const EDGE_VALUES = [
  -0, // dropped, decodes as +0
  2 ** -25, // f16 tie between 0 and the smallest subnormal: rounds to 0, so dropped in f16
  -(2 ** -26), // rounds to 0 in f16
  1.5 * 2 ** -25, // rounds up to the smallest f16 subnormal: kept
  2 ** -150, // f32 tie with 0: dropped in f32, and in f16
  2 ** -149, // smallest f32 subnormal
  1 + 2 ** -11, // f16 tie, rounds to even (1)
  1 + 3 * 2 ** -11, // f16 tie, rounds to even (1 + 2^-9)
  65519, // largest value that rounds to 65504 in f16
  65520, // rounds to inf in f16
  -Infinity,
  1e-5, // f16 subnormal range
  0.1, // inexact in both
];

export function randomMatrix(m: number, k: number, sparsity: number, seed: number, edgeShare = 0.05): Float64Array {
  const rand = seededRandom(seed);
  const a = new Float64Array(m * k);
  for (let i = 0; i < a.length; i++) {
    if (rand() < sparsity) continue;
    if (rand() < edgeShare) a[i] = EDGE_VALUES[Math.floor(rand() * EDGE_VALUES.length)]!;
    else a[i] = (rand() - 0.5) * 8;
  }
  return a;
}

export const arbMatrixCase: fc.Arbitrary<MatrixCase> = arbTileParams.chain((params) =>
  fc
    .record({
      m: arbDim(params.tileM, 260),
      k: arbDim(params.tileK, 520),
      sparsity: arbSparsity,
      seed: fc.integer(),
    })
    .map(({ m, k, sparsity, seed }) => ({ m, k, params, a: randomMatrix(m, k, sparsity, seed) })),
);

/** A's value as the format stores it: rounded to the value type, with everything that is then zero (or NaN) as +0. */
export function storedValue(v: number, values: TiledCslParams['values']): number {
  const r = values === 'f16' ? roundF16(v) : Math.fround(v);
  return Math.abs(r) > 0 ? r : 0;
}
