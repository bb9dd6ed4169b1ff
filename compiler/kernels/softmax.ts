// Softmax and LogSoftmax along one axis, numerically stable: a workgroup's lanes find each row's max (tree in
// workgroup memory), then the sum of exp(x - max) (a second tree), then write exp(x - max) / sum or
// x - max - log(sum). Rows are the input seen as (kept) x (axis) groups (lib/view.ts): one workgroup per row
// (several per workgroup when rows are short, or side by side when the axis is not innermost). Computed in f32.
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { add, builtin, call, div, lit, lt, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import {
  type Dim,
  type Lanes,
  type TensorSpec,
  ceilDiv,
  chooseLanes,
  fromCompute,
  laneCoords,
  opaque,
  pick,
  radixOffset,
  reduceView,
  toCompute,
  workgroupReduce,
} from './lib/index.js';

export interface SoftmaxSpec extends KernelSpecBase {
  readonly kernel: 'softmax';
  readonly log: boolean;
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  /** The rows: every axis but the softmax axis, merged. */
  readonly kept: readonly Dim[];
  readonly len: number;
  /** Stride of the softmax axis. */
  readonly stride: number;
  readonly lanes: Lanes;
}

export function softmaxSpec(target: Target, log: boolean, input: TensorSpec, axis: number, output: TensorSpec): SoftmaxSpec {
  const view = reduceView(input.shape, [axis]);
  const len = input.shape[axis]!;
  const rows = numel(view.kept.map((d) => d.size));
  return {
    kernel: 'softmax',
    target: { shaderF16: target.shaderF16 },
    log,
    input,
    output,
    kept: view.kept,
    len,
    stride: view.reduced[0]?.stride ?? 1,
    lanes: chooseLanes(rows, len, view.contiguous, view.run),
  };
}

export const softmax: KernelGen<SoftmaxSpec> = (spec) => {
  const { lanes, len } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty });
  const x = k.input('x', spec.input);
  const y = k.output('y', spec.output);
  const rows = len === 0 ? 0 : numel(spec.kept.map((d) => d.size));
  const wg = k.workgroupIndex(ceilDiv(rows, lanes.tx));
  const c = laneCoords(k, lanes);
  const row = k.let('row', sumU32([mulConst(wg, lanes.tx), c.x]));
  const valid = lt(row, lit.u32(rows));
  const base = k.let('base', radixOffset(row, spec.kept));
  /** Loop over this lane's elements of the row: body(flat offset). */
  const each = (body: (at: Expr) => void): void =>
    k.if(valid, () => k.for('r', c.y, opaque(c, len), (r) => body(k.let('at', add(base, mulConst(r, spec.stride)))), lanes.ty));
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
