// TopK along one axis: each line (the other axes) is owned by a row of a workgroup's lanes (tx lines x ty lanes,
// lib/workgroup.ts). Round r finds the element that comes next in TopK's total order after round r-1's pick:
// every lane scans its share of the line for the best element strictly after the previous pick, and a tree
// reduction in workgroup memory keeps the best of the lanes' candidates. The order (value, ties to the lower
// index, NaN above every number) is total, so "strictly after the previous pick" excludes exactly the elements
// already taken, with no marks to keep. k rounds of len/ty loads each: made for k much smaller than the line
// (sampling from logits), and still right, if slower, for k up to the whole line.
import type { DType } from '../../ir/dtype.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { add, convert, div, eq, gt, land, lit, lor, lt, mod, mulConst, ne, scalarType, select, sumU32 } from '../wgsl/dsl.js';
import {
  type Lanes,
  type TensorSpec,
  ceilDiv,
  chooseLanes,
  computeScalar,
  fromCompute,
  isnan,
  laneCoords,
  opaque,
  toCompute,
  workgroupReduce,
} from './lib/index.js';

export interface TopKSpec extends KernelSpecBase {
  readonly kernel: 'topk';
  readonly input: TensorSpec;
  /** The k values along the axis, in an unpacked dtype (packed ones go through scratch and a Cast). */
  readonly values: TensorSpec;
  /** i32, the shape of values. */
  readonly indices: TensorSpec;
  readonly outer: number;
  readonly len: number;
  readonly inner: number;
  readonly k: number;
  readonly largest: boolean;
  readonly lanes: Lanes;
}

export function topKSpec(target: Target, input: TensorSpec, values: TensorSpec, axis: number, k: number, largest: boolean): TopKSpec {
  const outer = input.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = input.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const len = input.shape[axis]!;
  const lanes = chooseLanes(outer * inner, len, inner === 1, inner);
  const indices: TensorSpec = { dtype: 'i32', shape: values.shape };
  return { kernel: 'topk', target: { shaderF16: target.shaderF16 }, input, values, indices, outer, len, inner, k, largest, lanes };
}

/** Marks "no element" in an index slot. */
const NONE = 0xffffffff;

/** Whether (a, ai) comes before (b, bi): by value (largest or smallest first), ties to the lower index, NaN above all. */
function before(scalar: Scalar, largest: boolean, a: Expr, ai: Expr, b: Expr, bi: Expr): Expr {
  const tie = lt(ai, bi);
  const byValue = select(eq(a, b), tie, largest ? gt(a, b) : lt(a, b));
  if (scalar !== 'f32') return byValue;
  const [na, nb] = [isnan(a), isnan(b)];
  return select(lor(na, nb), select(land(na, nb), tie, largest ? na : nb), byValue);
}

export const topK: KernelGen<TopKSpec> = (spec) => {
  const { lanes, len, inner, outer } = spec;
  const lines = outer * inner;
  const kb = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty });
  const x = kb.input('x', spec.input);
  const values = kb.output('values', spec.values);
  const indices = kb.output('indices', spec.indices);
  const dtype: DType = spec.input.dtype;
  const scalar = computeScalar(dtype);
  const type = scalarType(scalar);
  const u = lit.u32;
  const wg = kb.workgroupIndex(ceilDiv(lines, lanes.tx));
  const c = laneCoords(kb, lanes);
  const line = kb.let('line', add(mulConst(wg, lanes.tx), c.x));
  const valid = kb.let('valid', lt(line, u(lines)));
  const o = kb.let('o', div(line, u(inner)));
  const i = kb.let('i', mod(line, u(inner)));
  const inBase = kb.let('inBase', sumU32([mulConst(o, len * inner), i]));
  const outBase = kb.let('outBase', sumU32([mulConst(o, spec.k * inner), i]));
  const zero = lit.of(scalar, 0);
  const prev = kb.var('prev', type, zero);
  const prevIdx = kb.var('prevIdx', scalarType('u32'), u(NONE));
  const order = (a: Expr, ai: Expr, b: Expr, bi: Expr): Expr => before(scalar, spec.largest, a, ai, b, bi);
  // The rounds and the reduction's barriers are in uniform control flow: every invocation runs every round.
  kb.for('r', u(0), opaque(c, spec.k), (r) => {
    const best = kb.var('best', type, zero);
    const bestIdx = kb.var('bestIdx', scalarType('u32'), u(NONE));
    kb.for(
      'j',
      c.y,
      opaque(c, len),
      (j) => {
        const v = kb.let('v', toCompute(x.load(add(inBase, mulConst(j, inner))), x.value));
        const after = lor(eq(prevIdx, u(NONE)), order(prev, prevIdx, v, j));
        const better = lor(eq(bestIdx, u(NONE)), order(v, j, best, bestIdx));
        kb.if(land(valid, land(after, better)), () => {
          kb.assign(best, v);
          kb.assign(bestIdx, j);
        });
      },
      lanes.ty,
    );
    const [rv, ri] = workgroupReduce(kb, lanes, c, [scalar, 'u32'], [best, bestIdx], (k, a, b) => {
      const takeB = k.let('takeB', land(ne(b[1]!, u(NONE)), lor(eq(a[1]!, u(NONE)), order(b[0]!, b[1]!, a[0]!, a[1]!))));
      return [select(takeB, b[0]!, a[0]!), select(takeB, b[1]!, a[1]!)];
    }) as [Expr, Expr];
    kb.if(land(valid, eq(c.y, u(0))), () => {
      const at = kb.let('at', add(outBase, mulConst(r, inner)));
      values.store(at, fromCompute(rv, values.value));
      indices.store(at, convert('i32', ri));
    });
    kb.assign(prev, rv);
    kb.assign(prevIdx, ri);
    // Every lane has read this round's result before the next round's reduction overwrites workgroup memory.
    kb.workgroupBarrier();
  });
  return kb.finish();
};
