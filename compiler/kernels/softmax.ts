// Softmax and LogSoftmax along one axis, numerically stable: a workgroup's lanes find each row's max (tree in
// workgroup memory), then the sum of exp(x - max) (a second tree), then write exp(x - max) / sum or
// x - max - log(sum). Rows are the input seen as (kept) x (axis) groups (lib/view.ts): one workgroup per row
// (several per workgroup when rows are short, or side by side when the axis is not innermost). Computed in f32.
// With symbolic dims (spec.dims) the row count, row length and strides are read from the dims uniform: lanes are
// chosen for the upper bounds, and every loop and the row check run to the run-time sizes.
import { dimCeilDiv, dimProduct } from '../../ir/dim.js';
import type { Dim as SizeDim } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { add, builtin, call, div, lit, lt, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import {
  type DimGroup,
  type Lanes,
  type TensorSpec,
  REDUCE_PER_LANE,
  chooseLanes,
  fromCompute,
  laneCoords,
  mulDim,
  opaque,
  pick,
  radixOffsetDims,
  reduceViewDims,
  toCompute,
  workgroupFlatDim,
  workgroupReduce,
} from './lib/index.js';

export interface SoftmaxSpec extends KernelSpecBase {
  readonly kernel: 'softmax';
  /** The program's symbols, when a tensor has symbolic dims (tensor specs from symbolicTensor). */
  readonly dims?: DimContext;
  readonly log: boolean;
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  /** The rows: every axis but the softmax axis, merged. */
  readonly kept: readonly DimGroup[];
  readonly len: SizeDim;
  /** Stride of the softmax axis. */
  readonly stride: SizeDim;
  readonly lanes: Lanes;
}

export function softmaxSpec(target: Target, log: boolean, input: TensorSpec, axis: number, output: TensorSpec, dims?: DimContext): SoftmaxSpec {
  const shape = dims ? (input.dims ?? input.shape) : input.shape;
  const view = reduceViewDims(shape, [axis]);
  const len = shape[axis]!;
  const most = (d: SizeDim): number => dimMax(dims, d);
  return {
    kernel: 'softmax',
    target: { shaderF16: target.shaderF16 },
    ...(dims ? { dims } : {}),
    log,
    input,
    output,
    kept: view.kept,
    len,
    stride: view.reduced[0]?.stride ?? 1,
    lanes: chooseLanes(most(dimProduct(view.kept.map((d) => d.size))), most(len), view.contiguous, most(view.run), REDUCE_PER_LANE),
  };
}

export const softmax: KernelGen<SoftmaxSpec> = (spec) => {
  const { lanes, len } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const y = k.output('y', spec.output);
  const rows = len === 0 ? 0 : dimProduct(spec.kept.map((d) => d.size));
  // A symbolic count's padding workgroups (2-D dispatch) leave at once: a uniform exit, before any barrier.
  const groups = dimCeilDiv(rows, lanes.tx);
  const wg = typeof groups === 'number' ? k.workgroupIndex(groups) : workgroupFlatDim(k, groups);
  const c = laneCoords(k, lanes);
  const row = k.let('row', sumU32([mulConst(wg, lanes.tx), c.x]));
  const valid = lt(row, k.dim(rows));
  const base = k.let('base', radixOffsetDims(k, row, spec.kept));
  const end = typeof len === 'number' ? opaque(c, len) : k.dim(len);
  /** Loop over this lane's elements of the row: body(flat offset). */
  const each = (body: (at: Expr) => void): void =>
    k.if(valid, () => k.for('r', c.y, end, (r) => body(k.let('at', add(base, mulDim(k, r, spec.stride)))), lanes.ty));
  const load = (at: Expr): Expr => k.let('v', toCompute(x.load(at), x.value));

  // Max, propagating NaN (a NaN row gives NaN, as in the interpreter).
  const mx = k.var('mx', { kind: 'scalar', scalar: 'f32' }, lit.f32(-Infinity));
  const nanMax = (a: Expr, b: Expr): Expr => pick('max', 'f32', a, b);
  each((at) => k.assign(mx, nanMax(mx, load(at))));
  const [rowMax] = workgroupReduce(k, lanes, c, ['f32'], [mx], (_k, [a], [b]) => [nanMax(a!, b!)]);

  const sum = k.var('sum', { kind: 'scalar', scalar: 'f32' }, lit.f32(0));
  // kiln_exp, not exp: probabilities below 2^-126 stay subnormal (lavapipe's exp flushes them), as the reference's.
  each((at) => k.assign(sum, add(sum, call('kiln_exp', sub(load(at), rowMax!)))));
  const [rowSum] = workgroupReduce(k, lanes, c, ['f32'], [sum], (_k, [a], [b]) => [add(a!, b!)]);

  const logSum = spec.log ? k.let('logSum', builtin('log', rowSum!)) : undefined;
  each((at) => {
    const e = k.let('e', sub(load(at), rowMax!));
    const v = logSum ? sub(e, logSum) : div(call('kiln_exp', e), rowSum!);
    y.store(at, fromCompute(v, y.value));
  });
  return k.finish();
};
