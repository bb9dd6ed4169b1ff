// The sparse matmul's kernel plan (a MatMul/Gemm over a Tiled-CSL weight): y[N, M] = x[N, K] . A^T + bias with A[M, K] in Tiled-CSL (ir/formats), as one of two
// kernels plus, when needed, a split-K reduction:
//   'direct'  (sparse-matmul-direct.ts): each invocation walks the stored entries of one or a few rows of A and
//             multiplies only those, so the work is ~ entries * N;
//   'scatter' (sparse-matmul-scatter.ts): Flash-LLM's Load-as-Sparse, Compute-as-Dense; each K-tile is expanded
//             into a dense tile in workgroup memory and multiplied densely, work ~ M * K * N.
// Both walk the tile grid the same way: a workgroup owns a group of rows of one row block of A, a block of nb
// rows of x, and a slice of the K-tiles. With one slice and an output stored one element per word, the kernel
// writes y (bias added); otherwise it writes f32 partials [splitK, N, M] and sparse-splitk-reduce.ts sums the
// slices, adds the bias and stores y (which also covers outputs packed two per word, f16 without shader-f16).
// This file holds the specs, the geometry both kernels share, and the choices (blocks, split, variant).
import type { KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { type KernelBuilder, type Target } from '../wgsl/build.js';
import { add, builtin, lit, member, mul, mulConst } from '../wgsl/dsl.js';
import { type TensorSpec, divC, modC, workgroupFlat } from './lib/index.js';
import type { SplitKReduceSpec } from './sparse-splitk-reduce.js';
import { xIsVec4 } from './sparse-matmul-stage.js';

export type SparseVariant = 'direct' | 'scatter';

/** The product and the encoded weight, as every sparse kernel sees them. */
export interface SparseProblem {
  /** Rows of A (output features), columns of A (input features), rows of x (product of x's leading dims). */
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly tileM: number;
  readonly tileK: number;
  readonly values: 'f16' | 'f32';
  readonly x: TensorSpec;
  /** Whether the weight stores any entry (the items' length is left out: see sparse-matmul-csl.ts). */
  readonly stored: boolean;
  readonly offsets: TensorSpec;
}

/**
 * What a kernel writes: y itself (bias added when given), or the f32 partial sums [splitK, N, M] that the
 * reduction kernel finishes.
 */
export type SparseDestination =
  | { readonly kind: 'result'; readonly out: TensorSpec; readonly bias?: TensorSpec }
  | { readonly kind: 'partials'; readonly out: TensorSpec };

/** How a kernel's workgroups cover the problem. */
export interface SparseGrid {
  /** Rows of A per workgroup (a part of one row block). */
  readonly rows: number;
  /** Rows of x per workgroup: < 4, or a multiple of 4 (staged as vec4s). */
  readonly nb: number;
  /** K slices, and the K-tiles each covers (the last may cover fewer). */
  readonly splitK: number;
  readonly tilesPerSlice: number;
}

interface SparseKernelBase extends KernelSpecBase, SparseProblem, SparseGrid {
  readonly dest: SparseDestination;
}

export interface SparseDirectSpec extends SparseKernelBase {
  readonly kernel: 'sparse-matmul-direct';
  /** Consecutive rows of A each invocation walks (divides `rows`). */
  readonly rowsPerLane: number;
}

export interface SparseScatterSpec extends SparseKernelBase {
  readonly kernel: 'sparse-matmul-scatter';
  /** Rows of the register block each invocation accumulates (1 or 4; divides `rows`). */
  readonly tr: number;
}

export type SparseKernelSpec = SparseDirectSpec | SparseScatterSpec;

export interface SparseMatMulPlan {
  readonly main: SparseKernelSpec;
  /** Present when the main kernel writes partials. */
  readonly reduce?: SplitKReduceSpec;
}

/** Workgroup memory every kernel may use (WebGPU's default maxComputeWorkgroupStorageSize). */
const WORKGROUP_BYTES = 16384;
/** The most rows of x a direct workgroup keeps accumulators for (8 vec4s: register pressure, not memory). */
const DIRECT_MAX_NB = 32;
/** Invocations per direct workgroup: enough to amortise the staging of x and the barriers. */
const DIRECT_THREADS = 64;
/** Workgroup memory the scatter kernel gives its dense A tile; the rest holds x. */
const SCATTER_TILE_BYTES = 8192;
/** Workgroups below which the automatic split-K cuts K into slices (fills a large GPU; a CPU adapter needs few). */
const FILL_WORKGROUPS = 128;
/** The fewest K-tiles an automatic slice gets, so the partials and the reduction stay small next to the work. */
const MIN_TILES_PER_SLICE = 4;

export const tileGrid = (p: Pick<SparseProblem, 'm' | 'k' | 'tileM' | 'tileK'>): { tileRows: number; tileCols: number } => ({
  tileRows: Math.ceil(p.m / p.tileM),
  tileCols: Math.ceil(p.k / p.tileK),
});

/** Row groups, N blocks and workgroups of a kernel's grid. */
export function gridCounts(s: SparseProblem & SparseGrid): { rowGroups: number; subsPerBlock: number; nBlocks: number; groups: number } {
  const subsPerBlock = Math.ceil(s.tileM / s.rows);
  const rowGroups = tileGrid(s).tileRows * subsPerBlock;
  const nBlocks = Math.ceil(s.n / s.nb);
  return { rowGroups, subsPerBlock, nBlocks, groups: rowGroups * nBlocks * s.splitK };
}

/** A workgroup's place in the grid (u32 lets): its row block, first row in that block, first x row, K-tile range. */
export interface WorkgroupCoords {
  readonly rowBlock: Expr;
  /** First row of A this workgroup owns, within the tile (0 unless the block has several groups). */
  readonly r0: Expr;
  readonly n0: Expr;
  readonly slice: Expr;
  readonly ktBegin: Expr;
  readonly ktEnd: Expr;
}

/**
 * 1, unknown to the shader compiler: num_workgroups.z (1 in every dispatch) clamped. Loop bounds multiplied by it
 * stay opaque, so LLVM-based drivers (lavapipe) do not unroll long loops and compile for seconds.
 */
export function opaqueOne(k: KernelBuilder): Expr {
  return k.let('one', builtin('min', member(k.builtinInput('num_workgroups'), 'z'), lit.u32(1)));
}

/**
 * The coordinates of this workgroup. Row groups vary fastest, then N blocks, then K slices. `one` (opaqueOne)
 * keeps a whole-K loop bound opaque.
 */
export function workgroupCoords(k: KernelBuilder, s: SparseProblem & SparseGrid, one: Expr): WorkgroupCoords {
  const { rowGroups, subsPerBlock, nBlocks, groups } = gridCounts(s);
  const { tileCols } = tileGrid(s);
  const wg = workgroupFlat(k, groups);
  const group = k.let('group', modC(wg, rowGroups));
  const rest = k.let('rest', divC(wg, rowGroups));
  const rowBlock = k.let('row_block', divC(group, subsPerBlock));
  const r0 = k.let('r0', mulConst(modC(group, subsPerBlock), s.rows));
  const n0 = k.let('n0', mulConst(modC(rest, nBlocks), s.nb));
  const slice = k.let('slice', divC(rest, nBlocks));
  if (s.splitK === 1) return { rowBlock, r0, n0, slice, ktBegin: lit.u32(0), ktEnd: k.let('kt_end', mul(lit.u32(tileCols), one)) };
  const ktBegin = k.let('kt_begin', mulConst(slice, s.tilesPerSlice));
  const ktEnd = k.let('kt_end', builtin('min', add(ktBegin, lit.u32(s.tilesPerSlice)), lit.u32(tileCols)));
  return { rowBlock, r0, n0, slice, ktBegin, ktEnd };
}

// ---- choices ------------------------------------------------------------------------------------------------

/** N blocks: at most `maxNb` rows of x per workgroup, blocks as even as possible, >= 4 wide blocks a multiple of 4. */
export function chooseNb(n: number, maxNb: number): number {
  const blocks = Math.ceil(Math.max(1, n) / maxNb);
  const nb = Math.ceil(Math.max(1, n) / blocks);
  return xIsVec4(nb) ? Math.ceil(nb / 4) * 4 : nb;
}

/** Multiples of 4 up to `limit` (at least 4). */
const floor4 = (limit: number): number => Math.max(4, Math.floor(limit / 4) * 4);

/** Entries an invocation of the direct kernel should walk per K-tile: enough to amortise its row search. */
const DIRECT_ENTRIES_PER_LANE = 200;
/** Most rows one direct invocation walks (each adds a select and a multiply-add per entry). */
const DIRECT_MAX_ROWS_PER_LANE = 8;

const pow2round = (x: number): number => 2 ** Math.round(Math.log2(Math.max(1, x)));

/**
 * The direct kernel's grid: DIRECT_THREADS invocations (fewer for a small tile), x staged per K-tile. With one
 * row of x (decode), an invocation walks as many rows of A as bring it ~DIRECT_ENTRIES_PER_LANE entries per tile
 * (the stored entries say how dense the rows are): one binary search serves them all and the walks even out.
 * Wider blocks keep one (nb >= 4) or two rows per invocation, whose accumulators already fill the registers.
 */
function directGrid(p: SparseProblem, entries: number): Pick<SparseGrid, 'rows' | 'nb'> & { rowsPerLane: number } {
  const nb = chooseNb(p.n, Math.min(DIRECT_MAX_NB, floor4((WORKGROUP_BYTES - 4 * (DIRECT_THREADS + 1)) / (4 * p.tileK))));
  const rowEntries = entries / Math.max(1, tileGrid(p).tileCols * p.m);
  const wanted = rowEntries > 0 ? pow2round(DIRECT_ENTRIES_PER_LANE / rowEntries) : DIRECT_MAX_ROWS_PER_LANE;
  const rowsPerLane = Math.min(wanted, nb === 1 ? DIRECT_MAX_ROWS_PER_LANE : nb < 4 ? 2 : 1);
  const threads = Math.min(DIRECT_THREADS, Math.ceil(p.tileM / rowsPerLane));
  return { rows: threads * rowsPerLane, nb, rowsPerLane };
}

/**
 * The scatter kernel's grid: as many rows as fit an 8 KiB dense f32 tile, x in the rest; invocations hold a 4-row
 * register block when there are enough of them, and never exceed 256.
 */
function scatterGrid(p: SparseProblem): Pick<SparseGrid, 'rows' | 'nb'> & { tr: number } {
  const fit = Math.max(1, Math.floor(SCATTER_TILE_BYTES / (4 * p.tileK)));
  let rows = Math.min(p.tileM, fit);
  const tr = rows >= 16 ? 4 : 1;
  rows = Math.floor(rows / tr) * tr;
  const xBytes = WORKGROUP_BYTES - 4 * rows * p.tileK;
  // Invocations are (rows / tr) x (nb / 4), or (rows / tr) x nb for nb < 4.
  const maxNb = Math.min(floor4(xBytes / (4 * p.tileK)), 4 * Math.floor(256 / (rows / tr)));
  return { rows, tr, nb: chooseNb(p.n, maxNb) };
}

/** Split-K for `groups` workgroups over `tileCols` K-tiles: 0 asks for the automatic choice. */
export function chooseSplitK(requested: number, groups: number, tileCols: number): { splitK: number; tilesPerSlice: number } {
  let split = requested;
  if (split === 0) split = groups >= FILL_WORKGROUPS ? 1 : Math.min(Math.ceil(FILL_WORKGROUPS / Math.max(1, groups)), Math.floor(tileCols / MIN_TILES_PER_SLICE));
  split = Math.max(1, Math.min(split, tileCols));
  const tilesPerSlice = Math.max(1, Math.ceil(tileCols / split));
  // No empty slices: the slice count follows from the tiles per slice.
  return { splitK: Math.max(1, Math.ceil(tileCols / tilesPerSlice)), tilesPerSlice };
}

export interface SparseOperands extends SparseProblem {
  /** Entries the weight stores (non-zeros and padding). */
  readonly entries: number;
  readonly bias?: TensorSpec;
  /** y: x's leading dims and M, x's dtype. */
  readonly y: TensorSpec;
  /** Whether y is stored one element per word (otherwise it is written only by the reduction, a word at a time). */
  readonly yUnpacked: boolean;
}

/** The kernels for one sparse matmul: the main kernel's spec and, when it writes partials, the reduction's. */
export function planSparseMatMul(target: Target, o: SparseOperands, choice: { variant: SparseVariant; splitK: number }): SparseMatMulPlan {
  const base = {
    target: { shaderF16: target.shaderF16 },
    m: o.m,
    k: o.k,
    n: o.n,
    tileM: o.tileM,
    tileK: o.tileK,
    values: o.values,
    x: o.x,
    stored: o.stored,
    offsets: o.offsets,
  };
  const scatter = choice.variant === 'scatter' ? scatterGrid(o) : undefined;
  const direct = scatter ? undefined : directGrid(o, o.entries);
  const shape = scatter ?? direct!;
  const { groups } = gridCounts({ ...base, rows: shape.rows, nb: shape.nb, splitK: 1, tilesPerSlice: 1 });
  const split = chooseSplitK(choice.splitK, groups, tileGrid(o).tileCols);
  const viaPartials = split.splitK > 1 || !o.yUnpacked;
  const partials: TensorSpec = { dtype: 'f32', shape: [split.splitK * o.n * o.m] };
  const dest: SparseDestination = viaPartials
    ? { kind: 'partials', out: partials }
    : { kind: 'result', out: o.y, ...(o.bias ? { bias: o.bias } : {}) };
  const grid = { rows: shape.rows, nb: shape.nb, ...split };
  const main: SparseKernelSpec = scatter
    ? { kernel: 'sparse-matmul-scatter', ...base, ...grid, dest, tr: scatter.tr }
    : { kernel: 'sparse-matmul-direct', ...base, ...grid, dest, rowsPerLane: direct!.rowsPerLane };
  if (!viaPartials) return { main };
  const reduce: SplitKReduceSpec = {
    kernel: 'sparse-splitk-reduce',
    target: base.target,
    m: o.m,
    n: o.n,
    splitK: split.splitK,
    partials,
    out: o.y,
    ...(o.bias ? { bias: o.bias } : {}),
  };
  return { main, reduce };
}

/** Multiply-adds x2 a main kernel performs: every stored entry (direct) or every tile position (scatter). */
export function sparseFlops(s: SparseKernelSpec, entries: number): number {
  return s.kernel === 'sparse-matmul-direct' ? 2 * entries * s.n : 2 * s.m * s.k * s.n;
}
