// Reductions (ReduceSum/Mean/Max/Min/Prod, ArgMax; GlobalAveragePool is a ReduceMean) as one generic generator.
//
// The input is seen as (kept dims) x (reduced dims) (lib/view.ts): size-1 axes dropped, neighbouring axes of the
// same kind merged, each group with its baked stride, so any axes set (contiguous or not) is plain index math. A
// workgroup of tx*ty invocations computes tx outputs; the ty lanes of each output stride through its reduced
// elements, then combine their partials with a tree in workgroup memory (a barrier between levels). When the reduced
// axes are innermost the lanes of an output read consecutive memory (y varies fastest); otherwise consecutive
// outputs do (x fastest). A huge reduction with few outputs is split: stage 'partial' writes `split` partials per
// output to scratch and stage 'combine' reduces them, so many workgroups share the long rows. An empty reduction
// writes the neutral value without a loop, and an empty output does nothing: index math over a zero-size group
// would divide by a constant 0, which WGSL rejects at shader creation.
// With symbolic dims (spec.dims) output count, reduced count and strides are read from the dims uniform; lanes are
// chosen for the upper bounds and such reductions are never split (one 'full' stage is right for every size).
import { dimCeilDiv, dimMul, dimProduct } from '../../ir/dim.js';
import { type DType, intRange } from '../../ir/dtype.js';
import { type Dim as SizeDim, numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { add, builtin, convert, div, eq, gt, land, lit, lor, lt, mod, mul, mulConst, ne, not, select, sumU32 } from '../wgsl/dsl.js';
import {
  type Combine,
  type DimGroup,
  type Lanes,
  type TensorSpec,
  accDtype,
  ceilDiv,
  REDUCE_PER_LANE,
  chooseLanes,
  fromCompute,
  isnan,
  laneCoords,
  opaque,
  pick,
  radixOffsetDims,
  reduceView,
  reduceViewDims,
  toCompute,
  workgroupFlatDim,
  workgroupReduce,
} from './lib/index.js';

// ---- the reduction kernel ---------------------------------------------------------------------------------------

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'argmax' | 'argmin';

export interface ReduceSpec extends KernelSpecBase {
  readonly kernel: 'reduce';
  /** The program's symbols, when a tensor has symbolic dims (tensor specs from symbolicTensor; stage 'full'). */
  readonly dims?: DimContext;
  readonly op: ReduceOp;
  /** ArgMax/ArgMin: the last of equal extremes instead of the first. */
  readonly selectLast: boolean;
  /** 'full': input -> output; 'partial': input -> `split` partials per output; 'combine': partials -> output. */
  readonly stage: 'full' | 'partial' | 'combine';
  /** dtype of the original input (its range bounds integer max/min). */
  readonly source: DType;
  readonly input: TensorSpec;
  /** For 'partial': the partial values, [outputs * split] of the accumulator dtype. */
  readonly output: TensorSpec;
  readonly kept: readonly DimGroup[];
  readonly reduced: readonly DimGroup[];
  readonly split: number;
  /** ReduceMean: elements per output of the original input. */
  readonly divisor: SizeDim;
  readonly lanes: Lanes;
}

const NONE = 0xffffffff;

/** The accumulator's neutral start: the lowest (max) or highest (min) value of the source dtype. */
function extreme(acc: Scalar, source: DType, high: boolean): Expr {
  if (acc === 'f32') return lit.f32(high ? Infinity : -Infinity);
  const [lo, hi] = intRange(source);
  return lit.of(acc, high ? hi : lo);
}

interface Monoid {
  readonly types: readonly Scalar[];
  readonly init: readonly Expr[];
  readonly combine: Combine;
}

function monoid(spec: ReduceSpec, acc: Scalar): Monoid {
  switch (spec.op) {
    case 'sum':
    case 'mean':
      return { types: [acc], init: [lit.of(acc, 0)], combine: (_k, [a], [b]) => [add(a!, b!)] };
    case 'prod':
      return { types: [acc], init: [lit.of(acc, 1)], combine: (_k, [a], [b]) => [mul(a!, b!)] };
    case 'max':
    case 'min': {
      const fn = spec.op;
      return { types: [acc], init: [extreme(acc, spec.source, fn === 'min')], combine: (_k, [a], [b]) => [pick(fn, acc, a!, b!)] };
    }
    case 'argmax':
    case 'argmin': {
      // (value, index) pairs; NaN wins either way (as in the interpreter); equal values keep the smaller index
      // (the larger with selectLast), so the result does not depend on the combining order. NONE: empty.
      const cmp = spec.op === 'argmax' ? gt : lt;
      const greater = (v: Expr, w: Expr): Expr => (acc === 'f32' ? lor(cmp(v, w), land(isnan(v), not(isnan(w)))) : cmp(v, w));
      const same = (v: Expr, w: Expr): Expr => (acc === 'f32' ? lor(eq(v, w), land(isnan(v), isnan(w))) : eq(v, w));
      return {
        types: [acc, 'u32'],
        init: [extreme(acc, spec.source, spec.op === 'argmin'), lit.u32(NONE)],
        combine: (k, [av, ai], [bv, bi]) => {
          const order = spec.selectLast ? gt(bi!, ai!) : lt(bi!, ai!);
          const wins = lor(greater(bv!, av!), land(same(bv!, av!), order));
          const better = k.let('better', lor(eq(ai!, lit.u32(NONE)), land(ne(bi!, lit.u32(NONE)), wins)));
          return [select(better, bv!, av!), select(better, bi!, ai!)];
        },
      };
    }
  }
}

export const reduce: KernelGen<ReduceSpec> = (spec) => {
  const { lanes } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const argmax = spec.op === 'argmax' || spec.op === 'argmin';
  const src = k.input('x', spec.input);
  const srcIndex = spec.stage === 'combine' && argmax ? k.input('xi', { dtype: 'u32', shape: spec.input.shape }) : undefined;
  const out = k.output('y', spec.output);
  const outIndex = spec.stage === 'partial' && argmax ? k.output('yi', { dtype: 'u32', shape: spec.output.shape }) : undefined;
  const acc = accDtype(spec.source);
  const m = monoid(spec, acc);

  const outputs = dimProduct(spec.kept.map((d) => d.size));
  const count = dimProduct(spec.reduced.map((d) => d.size));
  const split = spec.stage === 'partial' ? spec.split : 1;
  // Split stages are planned for static shapes only, so `count` is a number wherever `chunk` is used.
  const chunk = split > 1 ? ceilDiv(count as number, split) : 0;
  const groups = dimMul(dimCeilDiv(outputs, lanes.tx), split);
  // A symbolic count's padding workgroups (2-D dispatch) leave at once: a uniform exit, before any barrier.
  const wg = typeof groups === 'number' ? k.workgroupIndex(groups) : workgroupFlatDim(k, groups);
  const c = laneCoords(k, lanes);
  const group = split > 1 ? div(wg, lit.u32(split)) : wg;
  const part = split > 1 ? k.let('part', mod(wg, lit.u32(split))) : lit.u32(0);
  const o = k.let('o', sumU32([mulConst(group, lanes.tx), c.x]));

  const accs = m.types.map((t, j) => k.var('acc', { kind: 'scalar', scalar: t }, m.init[j]));
  if (outputs === 0) return k.finish();
  k.if(lt(o, k.dim(outputs)), () => {
    if (count === 0) return;
    const base = k.let('base', radixOffsetDims(k, o, spec.kept));
    const start = split > 1 ? add(mulConst(part, chunk), c.y) : c.y;
    const end =
      split > 1 ? builtin('min', lit.u32(count as number), add(mulConst(part, chunk), lit.u32(chunk))) : typeof count === 'number' ? opaque(c, count) : k.dim(count);
    k.for(
      'r',
      start,
      end,
      (r) => {
        const at = k.let('at', add(base, radixOffsetDims(k, r, spec.reduced)));
        const elem = [k.let('v', toCompute(src.load(at), src.value))];
        if (argmax) elem.push(srcIndex ? k.let('vi', srcIndex.load(at)) : r);
        m.combine(k, accs, elem).forEach((v, j) => k.assign(accs[j]!, v));
      },
      lanes.ty,
    );
  });
  const red = workgroupReduce(k, lanes, c, m.types, accs, m.combine);

  k.if(land(eq(c.y, lit.u32(0)), lt(o, k.dim(outputs))), () => {
    if (spec.stage === 'partial') {
      const at = k.let('at', add(mulConst(o, split), part));
      out.store(at, red[0]!);
      outIndex?.store(at, red[1]!);
      return;
    }
    let v = red[0]!;
    if (argmax) v = convert('i32', red[1]!);
    else if (spec.op === 'mean') v = meanOf(k, v, spec.divisor);
    out.store(o, fromCompute(v, out.value));
  });
  return k.finish();
};

/** sum / divisor; an empty mean is NaN (a symbolic divisor may be 0 at run time when a symbol's range holds 0). */
function meanOf(k: KernelBuilder, sum: Expr, divisor: SizeDim): Expr {
  if (typeof divisor === 'number') return divisor === 0 ? lit.f32(NaN) : div(sum, lit.f32(divisor));
  const n = k.let('n', k.dim(divisor));
  return select(eq(n, lit.u32(0)), lit.f32(NaN), div(sum, convert('f32', n)));
}

// ---- planning: the specs of a reduction (one step, or partial + combine) ---------------------------------------

export interface ReducePlanInput {
  readonly target: Target;
  readonly op: ReduceOp;
  readonly selectLast?: boolean;
  readonly input: TensorSpec;
  readonly axes: readonly number[];
  /** The output as the kernel writes it (its dtype must be unpacked). */
  readonly output: TensorSpec;
  /** The program's symbols, when input or output has symbolic dims (their specs from symbolicTensor). */
  readonly dims?: DimContext;
}

/** Below this many workgroups a long reduction is split (when each lane would reduce at least MIN_PER_LANE). */
const SPLIT_BELOW_GROUPS = 64;
const MIN_PER_LANE = 32;

/** One spec, or [partial, combine] for a split reduction (partials go through scratch). */
export function planReduce(p: ReducePlanInput): ReduceSpec[] {
  if (p.dims) return [planSymbolic(p, p.dims)];
  const view = reduceView(p.input.shape, p.axes);
  const outputs = numel(view.kept.map((d) => d.size));
  const count = numel(view.reduced.map((d) => d.size));
  const lanes = chooseLanes(outputs, count, view.contiguous, view.run, REDUCE_PER_LANE);
  const base = { kernel: 'reduce', target: { shaderF16: p.target.shaderF16 }, op: p.op, selectLast: !!p.selectLast, source: p.input.dtype, divisor: count } as const;
  const groups = ceilDiv(outputs, lanes.tx);
  const perLane = ceilDiv(count, lanes.ty);
  let split = 1;
  if (groups < SPLIT_BELOW_GROUPS && perLane >= MIN_PER_LANE && outputs > 0)
    split = Math.min(ceilDiv(perLane, 16), ceilDiv(4 * SPLIT_BELOW_GROUPS, groups), 4096);
  if (split > 1) split = ceilDiv(count, ceilDiv(count, split)); // no empty chunk
  if (split <= 1) return [{ ...base, stage: 'full', input: p.input, output: p.output, kept: view.kept, reduced: view.reduced, split: 1, lanes }];
  const partials: TensorSpec = { dtype: accDtype(p.input.dtype), shape: [outputs * split] };
  return [
    { ...base, stage: 'partial', input: p.input, output: partials, kept: view.kept, reduced: view.reduced, split, lanes },
    {
      ...base,
      stage: 'combine',
      input: partials,
      output: p.output,
      kept: [{ size: outputs, stride: split }],
      reduced: [{ size: split, stride: 1 }],
      split: 1,
      lanes: chooseLanes(outputs, split, true, 1, REDUCE_PER_LANE),
    },
  ];
}

/** The one 'full' step of a reduction with symbolic dims: lanes for the upper bounds, sizes from the uniform. */
function planSymbolic(p: ReducePlanInput, dims: DimContext): ReduceSpec {
  const view = reduceViewDims(p.input.dims ?? p.input.shape, p.axes);
  const most = (d: SizeDim): number => dimMax(dims, d);
  const count = dimProduct(view.reduced.map((d) => d.size));
  return {
    kernel: 'reduce',
    target: { shaderF16: p.target.shaderF16 },
    dims,
    op: p.op,
    selectLast: !!p.selectLast,
    stage: 'full',
    source: p.input.dtype,
    input: p.input,
    output: p.output,
    kept: view.kept,
    reduced: view.reduced,
    split: 1,
    divisor: count,
    lanes: chooseLanes(most(dimProduct(view.kept.map((d) => d.size))), most(count), view.contiguous, most(view.run), REDUCE_PER_LANE),
  };
}
