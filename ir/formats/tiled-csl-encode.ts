// Dense A (row-major M x K) -> Tiled-CSL. Two passes over A and no per-entry objects, so an 11008 x 4096 LLM
// weight encodes in about a second even on a busy 2-core machine: the first pass counts the stored non-zeros of every tile, which fixes
// the offsets and the size of `items`; the second walks A row by row and appends each tile's entries through
// a per-tile cursor. Walking rows in order and columns in order within a row is what leaves every tile sorted
// by (row, col), padding included, without a sort.
import { f16Bits } from '../../runtime/f16.js';
import {
  TILED_CSL_VECTOR,
  type TiledCsl,
  type TiledCslParams,
  tiledCslGrid,
  tiledCslParamProblems,
  tiledCslWordsPerEntry,
} from './tiled-csl-layout.js';

/**
 * Magnitudes at or below these round to zero in the stored type (the boundary itself is a tie that rounds to
 * even, i.e. zero), so such values are zeros of the stored matrix and are dropped like exact zeros: half the
 * smallest f16 subnormal (2^-24) and half the smallest f32 subnormal (2^-149). `|v| > limit` is false for NaN,
 * which is dropped too, as Flash-LLM's fabs(v) > 0 drops it.
 */
const ROUNDS_TO_ZERO: Readonly<Record<TiledCslParams['values'], number>> = { f16: 2 ** -25, f32: 2 ** -150 };

/** Encode A (row-major, m*k values) with the given tile parameters; throws on invalid parameters or length. */
export function encodeTiledCsl(values: ArrayLike<number>, m: number, k: number, params: TiledCslParams): TiledCsl {
  const problems = tiledCslParamProblems(m, k, params);
  if (problems.length) throw new Error(`encodeTiledCsl: ${problems.join('; ')}`);
  if (values.length !== m * k) throw new Error(`encodeTiledCsl: a ${m}x${k} matrix needs ${m * k} values, got ${values.length}`);
  const limit = ROUNDS_TO_ZERO[params.values];
  const counts = countStoredNonZeros(values, m, k, params, limit);
  const { tiles } = tiledCslGrid(m, k, params);
  const offsets = new Uint32Array(tiles + 2);
  let nnz = 0;
  let entries = 0;
  for (let t = 0; t < tiles; t++) {
    nnz += counts[t]!;
    entries += Math.ceil(counts[t]! / TILED_CSL_VECTOR) * TILED_CSL_VECTOR;
    offsets[t + 1] = entries / TILED_CSL_VECTOR;
  }
  offsets[tiles + 1] = entries / TILED_CSL_VECTOR;
  const items = new Uint32Array(entries * tiledCslWordsPerEntry(params.values));
  fillEntries(values, m, k, params, limit, counts, offsets, items);
  return { params: { ...params }, m, k, items, offsets, nnz, entries };
}

/** Pass 1: stored non-zeros per tile, in tile order. */
function countStoredNonZeros(values: ArrayLike<number>, m: number, k: number, params: TiledCslParams, limit: number): Uint32Array {
  const { tileM, tileK } = params;
  const { tileCols, tiles } = tiledCslGrid(m, k, params);
  const counts = new Uint32Array(tiles);
  for (let r = 0; r < m; r++) {
    const firstTile = Math.floor(r / tileM) * tileCols;
    const rowStart = r * k;
    for (let j = 0; j < tileCols; j++) {
      const end = rowStart + Math.min(k, (j + 1) * tileK);
      let n = 0;
      // Branch free: at the densities that matter the zero test is a coin flip a branch would mispredict.
      for (let p = rowStart + j * tileK; p < end; p++) n += +(Math.abs(values[p]!) > limit);
      counts[firstTile + j] += n;
    }
  }
  return counts;
}

/**
 * Pass 2: write the entries. Each tile's padding (its count rounded up to a multiple of 4) goes on the first zero
 * positions met in row-major order, which keeps the (row, col) order. The rows of A in the tile always hold
 * enough of them: over R rows the zeros inside A and in the ragged columns past K number R*tileK - nnz, which
 * is >= 0 and congruent to the padding (-nnz) mod 4 because tileK is a multiple of 8, so it is at least the
 * padding, and rows past M are never needed.
 */
function fillEntries(
  values: ArrayLike<number>,
  m: number,
  k: number,
  params: TiledCslParams,
  limit: number,
  counts: Uint32Array,
  offsets: Uint32Array,
  items: Uint32Array,
): void {
  const { tileM, tileK } = params;
  const { tileRows, tileCols } = tiledCslGrid(m, k, params);
  const f16 = params.values === 'f16';
  // f32 entries are [value bits, location]; the float view writes the bits with round-to-nearest-even.
  const floats = new Float32Array(items.buffer, items.byteOffset, items.length);
  const chunkMask = (tileK >> 3) - 1;
  const cursor = new Uint32Array(tileCols); // next entry of each tile in the current row block
  const padLeft = new Uint8Array(tileCols); // padding entries still to place in each tile

  const put = (e: number, v: number, loc: number): void => {
    if (f16) items[e] = f16Bits(v) | (loc << 16);
    else {
      floats[2 * e] = v;
      items[2 * e + 1] = loc;
    }
  };

  for (let i = 0; i < tileRows; i++) {
    for (let j = 0; j < tileCols; j++) {
      const t = i * tileCols + j;
      cursor[j] = offsets[t]! * TILED_CSL_VECTOR;
      padLeft[j] = (offsets[t + 1]! - offsets[t]!) * TILED_CSL_VECTOR - counts[t]!;
    }
    const rowsInA = Math.min(tileM, m - i * tileM);
    for (let lr = 0; lr < rowsInA; lr++) {
      const swizzle = (lr & chunkMask) << 3;
      const rowLoc = lr * tileK;
      const rowStart = (i * tileM + lr) * k;
      for (let j = 0; j < tileCols; j++) {
        let e = cursor[j]!;
        let pad = padLeft[j]!;
        const colsInA = Math.min(tileK, k - j * tileK);
        const base = rowStart + j * tileK;
        for (let lc = 0; lc < colsInA; lc++) {
          const v = values[base + lc]!;
          if (Math.abs(v) > limit) put(e++, v, rowLoc + (lc ^ swizzle));
          else if (pad > 0) {
            put(e++, 0, rowLoc + (lc ^ swizzle));
            pad--;
          }
        }
        // Columns past K in a ragged last column block are zeros of the padded tile too.
        for (let lc = colsInA; pad > 0 && lc < tileK; lc++) {
          put(e++, 0, rowLoc + (lc ^ swizzle));
          pad--;
        }
        cursor[j] = e;
        padLeft[j] = pad;
      }
    }
    for (let j = 0; j < tileCols; j++)
      if (cursor[j] !== offsets[i * tileCols + j + 1]! * TILED_CSL_VECTOR)
        throw new Error(`encodeTiledCsl: internal error, tile ${i * tileCols + j} was not filled exactly`);
  }
}
