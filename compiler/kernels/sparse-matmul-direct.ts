// The 'direct' sparse kernel: multiply from registers, skipping zeros. Each invocation owns `rowsPerLane`
// consecutive rows of A's row block (output features) and keeps, per row, accumulators for the nb rows of x of
// its workgroup's N block. Per K-tile:
//   1. stage x's K-tile (tileK x nb, f32) in workgroup memory;
//   2. find where the invocation's rows start: entries are sorted by (row, col) within a tile, so one binary
//      search over the tile's locations gives it; they end where the next invocation's rows start, so each
//      invocation publishes its start in workgroup memory and reads its neighbour's (the last invocation's rows
//      end with the tile, or, when a tile is shared by several workgroups, where one more search says);
//   3. walk those entries a vector (4 f16 or 2 f32 entries, one 16-byte load) at a time: value * xs[col] goes to
//      the accumulators of the entry's row; entries of the first and last vector that belong to other rows
//      match no row of the invocation and add nothing.
// The work is ~ stored entries * N, not M * K * N. Several rows per invocation divide the searches (the costly
// part on a CPU adapter, where each step is a dependent gather) by that many and even out the walk lengths.
import type { KernelGen } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, eq, index, lit, mul, mulConst, select, shr, sub } from '../wgsl/dsl.js';
import { type SparseDirectSpec, gridCounts, opaqueOne, tileGrid, workgroupCoords } from './sparse-matmul.js';
import { accumulators, storeSums } from './sparse-matmul-store.js';
import { bindTiledCsl, decodeEntry, entriesPerVector, locCol, locRow, lowerBound, rowSwizzle, tileEntries } from './sparse-matmul-csl.js';
import { declareXStaging, stageX, xIsVec4 } from './sparse-matmul-stage.js';

const u = lit.u32;

/** Invocations of a direct workgroup. */
export const directThreads = (s: Pick<SparseDirectSpec, 'rows' | 'rowsPerLane'>): number => s.rows / s.rowsPerLane;

export const sparseMatMulDirect: KernelGen<SparseDirectSpec> = (spec) => {
  const { nb, tileK, rowsPerLane } = spec;
  const threads = directThreads(spec);
  if (spec.rows % rowsPerLane !== 0 || threads > 256) throw new Error(`invalid direct grid: ${spec.rows} rows, ${rowsPerLane} per invocation`);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: threads });
  // Binding order is the lowering's: x, items, offsets, bias (when the result is written here), then the output.
  const x = k.input('x', spec.x);
  const csl = bindTiledCsl(k, spec, true);
  const bias = spec.dest.kind === 'result' && spec.dest.bias ? k.input('bias', spec.dest.bias) : undefined;
  const out = k.output(spec.dest.kind === 'result' ? 'y' : 'partials', spec.dest.out);
  const xs = declareXStaging(k, tileK, nb);
  const starts = k.workgroupArray('starts', T.u32, threads + 1);

  const lid = k.builtinInput('local_invocation_index');
  const one = opaqueOne(k);
  const g = workgroupCoords(k, spec, one);
  const firstRow = k.let('first_row', add(g.r0, mulConst(lid, rowsPerLane)));
  const vec = xIsVec4(nb);
  const width = vec ? nb / 4 : nb;
  const acc = accumulators(k, rowsPerLane, nb);
  const wholeTile = gridCounts(spec).subsPerBlock === 1;

  // An all-zero weight has no entries (and its items binding no vectors): every row is just the bias.
  const vector = csl.vector;
  if (vector) {
    const per = entriesPerVector(spec.values);
    const shift = Math.log2(per);
    k.for('kt', g.ktBegin, g.ktEnd, (kt) => {
      const tile = k.let('tile', add(mulConst(g.rowBlock, tileGrid(spec).tileCols), kt));
      const { base, end } = tileEntries(k, csl, tile);
      stageX(k, { x, xs, nb, n: spec.n, k: spec.k, tileK, n0: g.n0, k0: k.let('k0', mulConst(kt, tileK)), lid, threads, one });
      // Rows past the tile (a group wider than the tile's last rows) find no entries: their start is the end.
      const lo = k.let('lo', lowerBound(k, csl, base, end, mulConst(firstRow, tileK)));
      k.assign(index(starts, lid), lo);
      // The group's rows end where the tile ends, or (a tile shared by several groups) where the next group's
      // rows start: one more search, by the last invocation.
      const groupEnd = (): Expr => (wholeTile ? end : lowerBound(k, csl, lo, end, mulConst(add(firstRow, u(rowsPerLane)), tileK)));
      k.if(eq(lid, u(threads - 1)), () => k.assign(index(starts, u(threads)), groupEnd()));
      k.workgroupBarrier();
      const hi = k.let('hi', index(starts, add(lid, u(1))));
      /** value * x[., col] into the accumulators of the entry's row, if it is one of this invocation's rows. */
      const multiply = (value: Expr, loc: Expr): void => {
        const row = k.let('row', locRow(csl, loc));
        // Which of this invocation's rows the entry is in (wraps to a large number below the first).
        const which = k.let('which', sub(row, firstRow));
        const at = k.let('at', mulConst(locCol(csl, loc, rowSwizzle(csl, row)), width));
        // The x values are loaded once; each row's accumulators take the value masked to its own entries.
        const xv = Array.from({ length: width }, (_, q) => k.let('xv', index(xs, q === 0 ? at : add(at, u(q)))));
        acc.forEach((accRow, i) => {
          const mine = k.let('mine', select(eq(which, u(i)), value, lit.f32(0)));
          accRow.forEach((a, q) => k.compound('+=', a, mul(xv[q]!, mine)));
        });
      };
      const entryOf = (v: Expr, e: Expr): { value: Expr; loc: Expr } =>
        spec.values === 'f16' ? decodeEntry(k, 'f16', index(v, e)) : decodeEntry(k, 'f32', index(v, mulConst(e, 2)), index(v, add(mulConst(e, 2), u(1))));
      k.for('q', shr(lo, u(shift)), shr(add(hi, u(per - 1)), u(shift)), (q) => {
        const v = k.let('v', vector(q));
        // A skinny block's few multiply-adds are unrolled over the vector; a wide block's many are looped over its
        // entries, or the shader compiler (LLVM in lavapipe) spends seconds on the unrolled body.
        if (vec) {
          k.for('e', u(0), mul(u(per), one), (e) => {
            const { value, loc } = entryOf(v, e);
            multiply(value, loc);
          });
        } else {
          for (let e = 0; e < per; e++) {
            const { value, loc } = entryOf(v, u(e));
            multiply(value, loc);
          }
        }
      });
      // xs and starts are rewritten by the next tile only after every invocation is done with them.
      k.workgroupBarrier();
    });
  }

  const rowOf = (i: number): Expr => (i === 0 ? firstRow : add(firstRow, u(i)));
  storeSums(k, spec, { out, bias, acc, rowInTile: rowOf, rowBlock: g.rowBlock, n0: g.n0, slice: g.slice });
  return k.finish();
};
