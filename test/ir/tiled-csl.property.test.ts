// The invariants of docs/papers.md §2.6 (1-4 and 7), adapted to kiln's Tiled-CSL, as properties over random
// matrices: every tile size including tileK 8 and 256, ragged and whole-tile M and K, sparsity 0..100 %, f16
// and f32 values. The invariants are recomputed here from the dense matrix and the raw words, not through
// checkTiledCsl, so a bug shared by the encoder and the checker still shows.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type TiledCsl,
  checkTiledCsl,
  decodeTiledCsl,
  encodeTiledCsl,
  f16BitsOf,
  tiledCslBytes,
  tiledCslLocation,
} from '../../ir/index.js';
import { arbMatrixCase, seededRandom, storedValue } from './tiled-csl-matrices.js';

/** One stored entry, read straight from the words. */
interface RawEntry {
  readonly bits: number;
  readonly value: number;
  readonly loc: number;
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

function rawEntries(csl: TiledCsl, first: number, end: number): RawEntry[] {
  const out: RawEntry[] = [];
  for (let e = first; e < end; e++) {
    if (csl.params.values === 'f16') {
      const w = csl.items[e]!;
      const bits = w & 0xffff;
      // Decode by brute force over the f16 encoder rather than trusting a decoder: bits -> the value with those bits.
      out.push({ bits, value: f16Value(bits), loc: w >>> 16 });
    } else {
      u32View[0] = csl.items[2 * e]!;
      out.push({ bits: csl.items[2 * e]!, value: f32View[0]!, loc: csl.items[2 * e + 1]! });
    }
  }
  return out;
}

/** The value of f16 bits, straight from the IEEE definition. */
function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return exponent === 0 ? sign * fraction * 2 ** -24 : sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** For each tile t = i*nK + j, its entries and the dense (zero-padded) tile of stored values. */
function forEachTile(
  csl: TiledCsl,
  a: Float64Array,
  fn: (entries: RawEntry[], storedAt: (r: number, c: number) => number, t: number) => void,
): void {
  const { tileM, tileK, values } = csl.params;
  const nK = Math.ceil(csl.k / tileK);
  const tiles = Math.ceil(csl.m / tileM) * nK;
  for (let t = 0; t < tiles; t++) {
    const [i, j] = [Math.floor(t / nK), t % nK];
    const storedAt = (r: number, c: number): number => {
      const [row, col] = [i * tileM + r, j * tileK + c];
      return row < csl.m && col < csl.k ? storedValue(a[row * csl.k + col]!, values) : 0;
    };
    fn(rawEntries(csl, csl.offsets[t]! * 4, csl.offsets[t + 1]! * 4), storedAt, t);
  }
}

/**
 * For each location, its (row, col) packed as row * tileK + col: the location formula run forwards over every
 * position, independent of any inverse in the library. Rows repeat their swizzle every tileK/8 rows, but the
 * table covers the largest tile outright.
 */
function positionsByLocation(tileM: number, tileK: number): Int32Array {
  const table = new Int32Array(tileM * tileK).fill(-1);
  for (let r = 0; r < tileM; r++) for (let c = 0; c < tileK; c++) table[tiledCslLocation(r, c, tileK)] = r * tileK + c;
  return table;
}

/** Throws with the details when a condition fails; cheaper than expect() in loops over every entry. */
function ensure(ok: boolean, details: () => object): void {
  if (!ok) throw new Error(JSON.stringify(details()));
}

function requireSameValues(got: Float64Array, want: Float64Array): void {
  ensure(got.length === want.length, () => ({ gotLength: got.length, wantLength: want.length }));
  for (let p = 0; p < want.length; p++) ensure(Object.is(got[p], want[p]), () => ({ p, got: got[p], want: want[p] }));
}

const runs = { numRuns: 100 };

// Matrices reach 260 x 520, so a property takes seconds on a busy machine.
describe('Tiled-CSL invariants (papers.md 2.6)', { timeout: 60_000 }, () => {
  it('1. round trip: decode(encode(A)) is A as stored, -0 and values rounding to 0 decoded as +0', () => {
    fc.assert(
      fc.property(arbMatrixCase, ({ m, k, params, a }) => {
        const csl = encodeTiledCsl(a, m, k, params);
        const want = a.map((v) => storedValue(v, params.values));
        requireSameValues(decodeTiledCsl(csl), want);
        expect(csl.nnz).toBe(want.filter((v) => v !== 0).length);
      }),
      runs,
    );
  });

  it('2. offsets: tiles + 2 long, from 0, non-decreasing, last repeated, tile counts the padded non-zeros', () => {
    fc.assert(
      fc.property(arbMatrixCase, ({ m, k, params, a }) => {
        const csl = encodeTiledCsl(a, m, k, params);
        const tiles = Math.ceil(m / params.tileM) * Math.ceil(k / params.tileK);
        const { offsets } = csl;
        expect(offsets.length).toBe(tiles + 2);
        expect(offsets[0]).toBe(0);
        for (let t = 0; t + 1 < offsets.length; t++) expect(offsets[t + 1]).toBeGreaterThanOrEqual(offsets[t]!);
        expect(offsets[tiles + 1]).toBe(offsets[tiles]);
        expect(offsets[tiles]! * 4).toBe(csl.entries);
        expect(csl.items.length).toBe(csl.entries * (params.values === 'f16' ? 1 : 2));
        expect(csl.nnz).toBeLessThanOrEqual(csl.entries);
        expect(csl.entries).toBeLessThan(csl.nnz + 4 * tiles);
        forEachTile(csl, a, (entries, storedAt, t) => {
          let tileNnz = 0;
          for (let r = 0; r < params.tileM; r++) for (let c = 0; c < params.tileK; c++) if (storedAt(r, c) !== 0) tileNnz++;
          // Each tile is padded to the next multiple of 4, no further.
          ensure(entries.length === Math.ceil(tileNnz / 4) * 4, () => ({ t, entries: entries.length, tileNnz }));
        });
      }),
      runs,
    );
  });

  it('3. entries: inside the tile, non-zeros exact and distinct, padding +0 on zero positions, sorted by (row, col)', () => {
    fc.assert(
      fc.property(arbMatrixCase, ({ m, k, params, a }) => {
        const csl = encodeTiledCsl(a, m, k, params);
        const { tileM, tileK, values } = params;
        const positions = positionsByLocation(tileM, tileK);
        forEachTile(csl, a, (entries, storedAt, t) => {
          let previous = -1;
          for (const { bits, value, loc } of entries) {
            ensure(loc < tileM * tileK, () => ({ t, loc }));
            const position = positions[loc]!;
            const [row, col] = [Math.floor(position / tileK), position % tileK];
            // Strictly increasing (row, col): sorted, and no position twice, padding included.
            ensure(position > previous, () => ({ t, row, col, previous }));
            previous = position;
            const want = storedAt(row, col);
            // Padding is +0 exactly, on a zero of the padded tile; a non-zero is A's value as stored.
            if (want === 0) ensure(bits === 0, () => ({ t, row, col, bits }));
            else ensure(value === want && (values === 'f32' || bits === f16BitsOf(want)), () => ({ t, row, col, value, want }));
          }
        });
        expect(checkTiledCsl(csl)).toEqual([]);
      }),
      runs,
    );
  });

  it('3. the swizzle is a bijection within each row, and for tileK 64 it is Flash-LLM\'s', () => {
    fc.assert(
      fc.property(fc.constantFrom(8, 16, 32, 64, 128, 256), fc.integer({ min: 0, max: 255 }), (tileK, row) => {
        const cols = Array.from({ length: tileK }, (_, c) => tiledCslLocation(row, c, tileK) - row * tileK);
        expect([...cols].sort((x, y) => x - y)).toEqual(Array.from({ length: tileK }, (_, c) => c));
        if (tileK === 64) cols.forEach((s, c) => expect(s).toBe(c ^ ((row % 8) << 3)));
      }),
    );
  });

  it('4. order independence: permuting the entries within each tile decodes to the same matrix', () => {
    fc.assert(
      fc.property(arbMatrixCase, fc.integer(), ({ m, k, params, a }, seed) => {
        const csl = encodeTiledCsl(a, m, k, params);
        const shuffled = shuffleWithinTiles(csl, seed);
        requireSameValues(decodeTiledCsl(shuffled), decodeTiledCsl(csl));
        // The shuffle breaks the sort order the 'direct' kernel relies on, which the checker must notice.
        const moved = shuffled.items.some((w, i) => w !== csl.items[i]);
        expect(checkTiledCsl(shuffled).some((p) => p.includes('sorted by (row, col)'))).toBe(moved);
      }),
      runs,
    );
  });

  it('7. size: items bytes + 4 (tiles + 2) = (4 or 8) entries + 4 (tiles + 2)', () => {
    fc.assert(
      fc.property(arbMatrixCase, ({ m, k, params, a }) => {
        const csl = encodeTiledCsl(a, m, k, params);
        const tiles = Math.ceil(m / params.tileM) * Math.ceil(k / params.tileK);
        const entryBytes = params.values === 'f16' ? 4 : 8;
        expect(tiledCslBytes(csl)).toBe(entryBytes * csl.entries + 4 * (tiles + 2));
        expect(tiledCslBytes(csl)).toBe(csl.items.byteLength + csl.offsets.byteLength);
      }),
      runs,
    );
  });
});

/** A copy of the encoding with each tile's entries in a random order (Fisher-Yates per tile). */
function shuffleWithinTiles(csl: TiledCsl, seed: number): TiledCsl {
  const rand = seededRandom(seed);
  const words = csl.params.values === 'f16' ? 1 : 2;
  const items = csl.items.slice();
  for (let t = 0; t + 2 < csl.offsets.length; t++) {
    const first = csl.offsets[t]! * 4;
    const end = csl.offsets[t + 1]! * 4;
    for (let e = end - 1; e > first; e--) {
      const other = first + Math.floor(rand() * (e - first + 1));
      for (let w = 0; w < words; w++) {
        const [x, y] = [e * words + w, other * words + w];
        [items[x], items[y]] = [items[y]!, items[x]!];
      }
    }
  }
  return { ...csl, items };
}
