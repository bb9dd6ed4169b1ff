// Tiled-CSL -> dense A, by scatter: zero-fill, then write each entry's value at its location, which is what the
// WGSL 'scatter' kernel does per tile, so the result does not depend on the order of entries within a tile.
// Values come back exactly as stored (f16-rounded for 'f16'). Decoding one row block at a time lets the
// interpreter stream over a large weight without materialising it.
import { tiledCslStructureProblems } from './tiled-csl-check.js';
import { tiledCslEntries } from './tiled-csl-entries.js';
import { TILED_CSL_VECTOR, type TiledCsl, tiledCslGrid } from './tiled-csl-layout.js';

/** Throws when the encoding is not structurally sound (see tiledCslStructureProblems). */
export function requireTiledCslStructure(csl: TiledCsl, what = 'Tiled-CSL'): void {
  const problems = tiledCslStructureProblems(csl);
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')}`);
}

/**
 * Scatter row block `i` into `band`: rows i*tileM .. of A, row-major with row stride k, which the caller has
 * zero-filled. Positions in the zero padding of ragged tiles are skipped. Assumes a sound structure.
 */
export function decodeTiledCslRowBlock(csl: TiledCsl, i: number, band: Float64Array): void {
  const { tileM, tileK } = csl.params;
  const { tileCols } = tiledCslGrid(csl.m, csl.k, csl.params);
  const reader = tiledCslEntries(csl);
  const chunkMask = (tileK >> 3) - 1;
  const log2TileK = Math.log2(tileK);
  const rowsInA = Math.min(tileM, csl.m - i * tileM);
  for (let j = 0; j < tileCols; j++) {
    const t = i * tileCols + j;
    const colsInA = Math.min(tileK, csl.k - j * tileK);
    const end = csl.offsets[t + 1]! * TILED_CSL_VECTOR;
    for (let e = csl.offsets[t]! * TILED_CSL_VECTOR; e < end; e++) {
      const loc = reader.location(e);
      const row = loc >>> log2TileK;
      const col = (loc & (tileK - 1)) ^ ((row & chunkMask) << 3);
      if (row < rowsInA && col < colsInA) band[row * csl.k + j * tileK + col] = reader.value(e);
    }
  }
}

/** A as row-major m*k values; throws on an unsound structure. */
export function decodeTiledCsl(csl: TiledCsl): Float64Array {
  requireTiledCslStructure(csl, 'decodeTiledCsl');
  const { tileM } = csl.params;
  const { tileRows } = tiledCslGrid(csl.m, csl.k, csl.params);
  const a = new Float64Array(csl.m * csl.k);
  for (let i = 0; i < tileRows; i++) {
    const firstRow = i * tileM;
    decodeTiledCslRowBlock(csl, i, a.subarray(firstRow * csl.k, Math.min(csl.m, firstRow + tileM) * csl.k));
  }
  return a;
}
