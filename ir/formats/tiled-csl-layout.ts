// Tiled-CSL (Flash-LLM's "Load-as-Sparse, Compute-as-Dense" weight format, docs/papers.md §2.2) adapted to
// WebGPU: the data types and the geometry every encoder, decoder, checker and WGSL kernel must agree on.
//
// A[M,K] (M output features, K input features: a PyTorch Linear weight) is cut into tileM x tileK tiles, row-block
// i outer and column-block j inner (t = i*nK + j). Ragged edges are allowed: the last tiles are padded with zeros
// that are never stored. Each tile stores its non-zeros, plus at most 3 padding entries (+0 at a zero position)
// so every tile is a whole number of 4-entry vectors (one vec4<u32> load for f16 values), sorted by (row, col).
//
//   values 'f16': one u32 per entry   = f16 bits (low 16) | location << 16
//   values 'f32': two u32 per entry   = [f32 bits, location]
//   offsets: u32[tiles + 2]           = [0, end of tile 0, ..., end of tile t-1, end again], in units of 4 entries
//
// The repeated last offset lets a kernel prefetch the offsets of tile t+2 without a bounds check.

export interface TiledCslParams {
  /** Rows per tile, >= 1. */
  readonly tileM: number;
  /** Columns per tile: a power of two in 8..256 (the swizzle works on 8-column chunks). */
  readonly tileK: number;
  readonly values: 'f16' | 'f32';
}

export interface TiledCsl {
  readonly params: TiledCslParams;
  /** Rows of A (output features). */
  readonly m: number;
  /** Columns of A (input features). */
  readonly k: number;
  /** The entries of all tiles in tile order, 1 (f16) or 2 (f32) words each. */
  readonly items: Uint32Array;
  /** Tile boundaries in units of 4 entries; length tiles + 2. */
  readonly offsets: Uint32Array;
  /** Stored non-zeros (entries that are not padding). */
  readonly nnz: number;
  /** Stored entries, padding included; a multiple of 4. */
  readonly entries: number;
}

/** Entries per tile are padded to a multiple of this (one 16-byte vec4<u32> of f16 entries). */
export const TILED_CSL_VECTOR = 4;

/** A location is stored in 16 bits, so a tile holds at most this many positions. */
export const TILED_CSL_MAX_TILE_POSITIONS = 65536;

/** The tile grid over A: row blocks, column blocks and their product. */
export interface TiledCslGrid {
  readonly tileRows: number;
  readonly tileCols: number;
  readonly tiles: number;
}

export function tiledCslGrid(m: number, k: number, params: TiledCslParams): TiledCslGrid {
  const tileRows = Math.ceil(m / params.tileM);
  const tileCols = Math.ceil(k / params.tileK);
  return { tileRows, tileCols, tiles: tileRows * tileCols };
}

/** u32 words per entry. */
export const tiledCslWordsPerEntry = (values: TiledCslParams['values']): number => (values === 'f16' ? 1 : 2);

/** Problems with the parameters and matrix size, as messages; empty when they describe a valid encoding. */
export function tiledCslParamProblems(m: number, k: number, params: TiledCslParams): string[] {
  const problems: string[] = [];
  const { tileM, tileK, values } = params;
  if (!Number.isInteger(m) || m < 0) problems.push(`m must be a non-negative integer, got ${m}`);
  if (!Number.isInteger(k) || k < 0) problems.push(`k must be a non-negative integer, got ${k}`);
  if (!Number.isInteger(tileK) || tileK < 8 || tileK > 256 || (tileK & (tileK - 1)) !== 0)
    problems.push(`tileK must be a power of two in 8..256, got ${tileK}`);
  if (!Number.isInteger(tileM) || tileM < 1) problems.push(`tileM must be an integer >= 1, got ${tileM}`);
  else if (tileM * tileK > TILED_CSL_MAX_TILE_POSITIONS)
    problems.push(`tileM*tileK must be at most ${TILED_CSL_MAX_TILE_POSITIONS} so a location fits 16 bits, got ${tileM}*${tileK}`);
  if (values !== 'f16' && values !== 'f32') problems.push(`values must be 'f16' or 'f32', got '${String(values)}'`);
  return problems;
}

/**
 * Location of (row r, col c) inside a tile: row-major, with the 8-column chunks of row r XOR-swizzled by
 * r % (tileK/8). For tileK = 64 this is exactly Flash-LLM's, where it matches ldmatrix's bank-conflict-free
 * addressing; in WGSL it still spreads column reads of consecutive rows over different banks.
 */
export function tiledCslLocation(r: number, c: number, tileK: number): number {
  return r * tileK + (c ^ ((r % (tileK >> 3)) << 3));
}

/** Inverse of tiledCslLocation for a power-of-two tileK: the row and column a location stands for. */
export function tiledCslRowCol(loc: number, tileK: number): { row: number; col: number } {
  const row = Math.floor(loc / tileK);
  return { row, col: (loc % tileK) ^ ((row % (tileK >> 3)) << 3) };
}

/** Bytes of the encoded buffers: the items plus the u32 offsets. */
export function tiledCslBytes(csl: TiledCsl): number {
  return csl.items.byteLength + 4 * (tiledCslGrid(csl.m, csl.k, csl.params).tiles + 2);
}

/** Bytes of the same matrix stored dense, for deciding whether the sparse format pays. */
export function denseBytes(m: number, k: number, values: TiledCslParams['values']): number {
  return m * k * (values === 'f16' ? 2 : 4);
}
