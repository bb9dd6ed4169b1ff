// Validation of a Tiled-CSL encoding against the invariants of docs/papers.md §2.6, adapted to kiln's contract:
// used by tests, by decoding (the structural part, which decoding relies on to stay in bounds) and when loading
// an encoding that did not come straight from encodeTiledCsl.
import { tiledCslEntries } from './tiled-csl-entries.js';
import {
  TILED_CSL_VECTOR,
  type TiledCsl,
  tiledCslGrid,
  tiledCslParamProblems,
  tiledCslWordsPerEntry,
} from './tiled-csl-layout.js';

/** Reports stop after this many, so a badly corrupted matrix yields a readable list. */
const MAX_PROBLEMS = 50;

class Problems {
  readonly list: string[] = [];
  private dropped = 0;
  add(message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(message);
    else this.dropped++;
  }
  done(): string[] {
    return this.dropped ? [...this.list, `... and ${this.dropped} more problems`] : this.list;
  }
}

/**
 * What a decoder needs to stay in bounds: valid parameters, offsets of length tiles + 2 that start at 0, never
 * decrease, repeat the total and match the items' length, and every location inside its tile. Linear and cheap.
 */
export function tiledCslStructureProblems(csl: TiledCsl): string[] {
  const paramProblems = tiledCslParamProblems(csl.m, csl.k, csl.params);
  if (paramProblems.length) return paramProblems;
  const problems = new Problems();
  const { tiles } = tiledCslGrid(csl.m, csl.k, csl.params);
  const { offsets, items } = csl;
  const words = tiledCslWordsPerEntry(csl.params.values);
  if (offsets.length !== tiles + 2) return [`offsets has ${offsets.length} elements, expected tiles + 2 = ${tiles + 2}`];
  if (offsets[0] !== 0) problems.add(`offsets[0] is ${offsets[0]}, expected 0`);
  for (let t = 0; t + 1 < offsets.length; t++)
    if (offsets[t + 1]! < offsets[t]!) problems.add(`offsets decrease at tile ${t}: ${offsets[t]} then ${offsets[t + 1]}`);
  if (offsets[tiles + 1] !== offsets[tiles])
    problems.add(`the last offset ${offsets[tiles + 1]} does not repeat the total ${offsets[tiles]}`);
  const entries = offsets[tiles]! * TILED_CSL_VECTOR;
  if (items.length !== entries * words)
    problems.add(`items has ${items.length} words, but the offsets end at ${entries} entries of ${words} word${words > 1 ? 's' : ''}`);
  if (problems.list.length) return problems.done();
  const positions = csl.params.tileM * csl.params.tileK;
  const reader = tiledCslEntries(csl);
  for (let e = 0; e < entries; e++) {
    const loc = reader.location(e);
    if (loc >= positions) problems.add(`entry ${e}: location ${loc} is outside the ${csl.params.tileM}x${csl.params.tileK} tile`);
  }
  return problems.done();
}

/**
 * Every invariant of the format, as messages (empty when valid): the structure above, the nnz and entries
 * counts, and per tile: values are non-zeros or +0 padding (no -0, no NaN), at most 3 padding entries, non-zero
 * locations distinct, padding only on zero positions, no non-zero outside A in a ragged tile, and entries sorted
 * by (row, col).
 */
export function checkTiledCsl(csl: TiledCsl): string[] {
  const structure = tiledCslStructureProblems(csl);
  if (structure.length) return structure;
  const problems = new Problems();
  const { tileM, tileK } = csl.params;
  const { tileCols, tiles } = tiledCslGrid(csl.m, csl.k, csl.params);
  const reader = tiledCslEntries(csl);
  const entries = csl.offsets[tiles]! * TILED_CSL_VECTOR;
  if (csl.entries !== entries) problems.add(`entries is ${csl.entries}, but the offsets end at ${entries}`);
  const occupied = new Uint8Array(tileM * tileK); // non-zero positions of the current tile
  const chunkMask = (tileK >> 3) - 1;
  const log2TileK = Math.log2(tileK);
  let nnz = 0;
  for (let t = 0; t < tiles; t++) {
    const i = Math.floor(t / tileCols);
    const j = t % tileCols;
    const rowsInA = Math.min(tileM, csl.m - i * tileM);
    const colsInA = Math.min(tileK, csl.k - j * tileK);
    const first = csl.offsets[t]! * TILED_CSL_VECTOR;
    const end = csl.offsets[t + 1]! * TILED_CSL_VECTOR;
    const where = (e: number): string => `tile ${t} (row block ${i}, column block ${j}) entry ${e - first}`;
    let padding = 0;
    let previous = -1;
    for (let e = first; e < end; e++) {
      const loc = reader.location(e);
      const row = loc >>> log2TileK;
      const col = (loc & (tileK - 1)) ^ ((row & chunkMask) << 3);
      const v = reader.value(e);
      const rowMajor = row * tileK + col;
      if (rowMajor < previous) problems.add(`${where(e)}: (row ${row}, col ${col}) comes after a later position; entries must be sorted by (row, col)`);
      previous = rowMajor;
      if (Number.isNaN(v)) problems.add(`${where(e)}: stores NaN`);
      else if (v === 0) {
        if (reader.bits(e) !== 0) problems.add(`${where(e)}: stores -0; zeros are dropped and padding is +0`);
        padding++;
      } else {
        nnz++;
        if (occupied[loc]) problems.add(`${where(e)}: (row ${row}, col ${col}) is stored twice`);
        occupied[loc] = 1;
        if (row >= rowsInA || col >= colsInA) problems.add(`${where(e)}: non-zero at (row ${row}, col ${col}) lies outside A`);
      }
    }
    if (padding >= TILED_CSL_VECTOR) problems.add(`tile ${t}: ${padding} zero entries, at most ${TILED_CSL_VECTOR - 1} padding entries are allowed`);
    for (let e = first; e < end; e++) {
      const loc = reader.location(e);
      if (reader.value(e) === 0 && occupied[loc]) problems.add(`${where(e)}: padding points at location ${loc}, which holds a non-zero`);
    }
    for (let e = first; e < end; e++) occupied[reader.location(e)] = 0;
  }
  if (csl.nnz !== nnz) problems.add(`nnz is ${csl.nnz}, but ${nnz} non-zeros are stored`);
  return problems.done();
}
