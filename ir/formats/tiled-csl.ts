// Public surface of kiln's Tiled-CSL sparse weight format (see tiled-csl-layout.ts for the format itself).
export {
  type TiledCsl,
  type TiledCslGrid,
  type TiledCslParams,
  TILED_CSL_MAX_TILE_POSITIONS,
  TILED_CSL_VECTOR,
  denseBytes,
  tiledCslBytes,
  tiledCslGrid,
  tiledCslLocation,
  tiledCslParamProblems,
  tiledCslRowCol,
  tiledCslWordsPerEntry,
} from './tiled-csl-layout.js';
export { encodeTiledCsl } from './tiled-csl-encode.js';
export { decodeTiledCsl, decodeTiledCslRowBlock, requireTiledCslStructure } from './tiled-csl-decode.js';
export { checkTiledCsl, tiledCslStructureProblems } from './tiled-csl-check.js';
export { type TiledCslEntryReader, tiledCslEntries, tiledCslFromBuffers } from './tiled-csl-entries.js';
export { f16Bits as f16BitsOf } from '../../runtime/f16.js';
