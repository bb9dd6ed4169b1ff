// The 'scatter' sparse kernel: Flash-LLM's Load-as-Sparse, Compute-as-Dense (docs/papers.md §2). A workgroup owns
// `rows` rows of one row block of A and an N block of x. Per K-tile:
//   1. stage x's K-tile and find its rows' entries (the whole tile, or, when the rows are part of the block, the
//      range between two binary searches: entries are sorted by row);
//   2. scatter the entries into the dense tile (zero elsewhere), the invocations striding over them (any count:
//      no per-invocation capacity, unlike Flash-LLM's fixed register buffers);
//   3. multiply densely: each invocation accumulates a tr-row x (1 or 4)-column block of outputs in registers;
//   4. put zeros back where the entries went, so the tile is all zeros again for the next K-tile (clearing the
//      entries' positions costs a fraction of zeroing the whole tile at the sparsities the format is for).
// The dense tile is f32 and stored column-major (a[col * rows + row]) so a step of the product reads neighbouring
// rows; the swizzle is undone at the scatter. WebGPU's 16 KiB of workgroup memory bounds the tile (8 KiB here),
// so a large format tile is covered by several workgroups, each expanding its own rows.
import type { KernelGen } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, index, lit, mul, mulConst, sub } from '../wgsl/dsl.js';
import { divC, modC } from './lib/index.js';
import { type SparseScatterSpec, gridCounts, opaqueOne, tileGrid, workgroupCoords } from './sparse-matmul.js';
import { accumulators, storeSums } from './sparse-matmul-store.js';
import { bindTiledCsl, locCol, locRow, lowerBound, readEntry, rowSwizzle, tileEntries } from './sparse-matmul-csl.js';
import { declareXStaging, stageX, xIsVec4 } from './sparse-matmul-stage.js';

const u = lit.u32;

/** Invocations of a scatter workgroup: (rows / tr) row blocks x one column group per vec4 (or row) of x. */
export const scatterThreads = (s: Pick<SparseScatterSpec, 'rows' | 'tr' | 'nb'>): number => (s.rows / s.tr) * (xIsVec4(s.nb) ? s.nb / 4 : s.nb);

export const sparseMatMulScatter: KernelGen<SparseScatterSpec> = (spec) => {
  const { rows, nb, tr, tileK } = spec;
  const threads = scatterThreads(spec);
  if (rows % tr !== 0 || threads > 256) throw new Error(`invalid scatter grid: ${rows} rows, tr ${tr}, nb ${nb}`);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: threads });
  const x = k.input('x', spec.x);
  const csl = bindTiledCsl(k, spec, false);
  const bias = spec.dest.kind === 'result' && spec.dest.bias ? k.input('bias', spec.dest.bias) : undefined;
  const out = k.output(spec.dest.kind === 'result' ? 'y' : 'partials', spec.dest.out);
  const dense = k.workgroupArray('dense', T.f32, tileK * rows);
  const xs = declareXStaging(k, tileK, nb);

  const lid = k.builtinInput('local_invocation_index');
  const one = opaqueOne(k);
  const g = workgroupCoords(k, spec, one);
  const width = xIsVec4(nb) ? nb / 4 : nb;
  const ti = k.let('ti', divC(lid, width));
  const tj = k.let('tj', modC(lid, width));
  // One column group per invocation: acc[i][0] holds row i of its register block against x rows n0 + tj*(4 or 1).
  const acc = accumulators(k, tr, xIsVec4(nb) ? 4 : 1);
  const wholeBlock = gridCounts(spec).subsPerBlock === 1;

  /** Write each entry of [lo, hi) (or zero at its position) into the dense tile, invocations striding. */
  const scatter = (lo: Expr, hi: Expr, zero: boolean): void =>
    k.for('j', add(lo, lid), hi, (j) => {
      const { value, loc } = readEntry(k, csl, j);
      const rr = k.let('rr', locRow(csl, loc));
      const col = locCol(csl, loc, rowSwizzle(csl, rr));
      k.assign(index(dense, add(mulConst(col, rows), sub(rr, g.r0))), zero ? lit.f32(0) : value);
    }, threads);

  // The tile is zeroed once; after each product only the positions the entries wrote are cleared again, which
  // costs the entries (a fraction of the tile at the sparsities this format is for) instead of the whole tile.
  k.for('z', lid, mul(u(tileK * rows), one), (z) => k.assign(index(dense, z), lit.f32(0)), threads);
  k.for('kt', g.ktBegin, g.ktEnd, (kt) => {
    const tile = k.let('tile', add(mulConst(g.rowBlock, tileGrid(spec).tileCols), kt));
    const { base, end } = tileEntries(k, csl, tile);
    stageX(k, { x, xs, nb, n: spec.n, k: spec.k, tileK, n0: g.n0, k0: k.let('k0', mulConst(kt, tileK)), lid, threads, one });
    // This group's rows are [r0, r0 + rows) of the block: a contiguous run of the tile's sorted entries.
    const lo = wholeBlock ? base : k.let('lo', lowerBound(k, csl, base, end, mulConst(g.r0, tileK)));
    const hi = wholeBlock ? end : k.let('hi', lowerBound(k, csl, lo, end, mulConst(add(g.r0, u(rows)), tileK)));
    k.workgroupBarrier();
    scatter(lo, hi, false);
    k.workgroupBarrier();
    // The dense product over the tile's columns; the bound is opaque so the loop is not unrolled tileK times.
    k.for('c', u(0), mul(u(tileK), one), (c) => {
      const xv = k.let('xv', index(xs, add(mulConst(c, width), tj)));
      const a0 = k.let('a0', add(mulConst(c, rows), mulConst(ti, tr)));
      acc.forEach(([a], i) => k.compound('+=', a!, mul(xv, index(dense, i === 0 ? a0 : add(a0, u(i))))));
    });
    // The next tile restages xs and rewrites the dense tile only after everyone has read them; the clearing
    // below is ordered before the next scatter by the next tile's first barrier.
    k.workgroupBarrier();
    scatter(lo, hi, true);
  });

  const n0 = k.let('n0_inv', add(g.n0, mulConst(tj, xIsVec4(nb) ? 4 : 1)));
  storeSums(k, spec, { out, bias, acc, rowInTile: (i) => add(g.r0, add(mulConst(ti, tr), u(i))), rowBlock: g.rowBlock, n0, slice: g.slice });
  return k.finish();
};
