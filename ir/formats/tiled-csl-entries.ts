// Reading stored entries back: the value and location of entry e, whichever value type the encoding uses, and
// a TiledCsl view over raw buffers (as a tiled-csl constant stores them, or as a loader reads them from disk).
import { f16FromBits } from '../../runtime/f16.js';
import { type TiledCsl, type TiledCslParams, tiledCslWordsPerEntry } from './tiled-csl-layout.js';

export interface TiledCslEntryReader {
  /** The stored value of entry e, as a double (f16 decoded exactly). */
  value(e: number): number;
  /** The raw bits of entry e's value (16 for f16, 32 for f32): tells +0 from -0 and NaN payloads apart. */
  bits(e: number): number;
  /** The in-tile location of entry e. */
  location(e: number): number;
}

export function tiledCslEntries(csl: Pick<TiledCsl, 'params' | 'items'>): TiledCslEntryReader {
  const { items } = csl;
  if (csl.params.values === 'f16') {
    return {
      value: (e) => f16FromBits(items[e]! & 0xffff),
      bits: (e) => items[e]! & 0xffff,
      location: (e) => items[e]! >>> 16,
    };
  }
  const floats = new Float32Array(items.buffer, items.byteOffset, items.length);
  return {
    value: (e) => floats[2 * e]!,
    bits: (e) => items[2 * e]!,
    location: (e) => items[2 * e + 1]!,
  };
}

/**
 * A TiledCsl over existing buffers; nnz and entries are counted from the items (an item whose value is not 0 is a
 * non-zero). The buffers are not validated here: see checkTiledCsl.
 */
export function tiledCslFromBuffers(m: number, k: number, params: TiledCslParams, items: Uint32Array, offsets: Uint32Array): TiledCsl {
  const entries = Math.floor(items.length / tiledCslWordsPerEntry(params.values));
  const reader = tiledCslEntries({ params, items });
  let nnz = 0;
  for (let e = 0; e < entries; e++) if (reader.value(e) !== 0) nnz++;
  return { params: { ...params }, m, k, items, offsets, nnz, entries };
}
