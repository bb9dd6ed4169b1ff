// LayerNormalization over the trailing axes [axis, rank): each row (the leading axes, flattened) is normalised by
// its mean and variance, then scaled and shifted by Scale and the optional B (both broadcast to the normalised
// shape). Two passes in f32, like the interpreter: the mean (lanes sum, tree in workgroup memory), then the
// variance as the mean of squared deviations (a second tree), so there is no cancellation between E[x²] and E[x]²;
// rows whose squares would overflow f32 are scaled first (see below).
// A third pass over the row writes the output; rows of any length take one workgroup (several when short).
// With symbolic dims (spec.dims) the row count is read from the dims uniform; the normalised axes are static.
import { dimCeilDiv, dimProduct } from '../../ir/dim.js';
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { broadcastIndex } from '../wgsl/broadcast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { T, add, builtin, div, gt, lit, lt, mul, mulConst, select, sub, sumU32 } from '../wgsl/dsl.js';
import { type Lanes, REDUCE_PER_LANE, type TensorSpec, chooseLanes, fromCompute, laneCoords, opaque, pick, toCompute, workgroupFlatDim, workgroupReduce } from './lib/index.js';

export interface LayerNormSpec extends KernelSpecBase {
  readonly kernel: 'layer-norm';
  /** The program's symbols, when the leading (row) axes are symbolic (tensor specs from symbolicTensor). */
  readonly dims?: DimContext;
  readonly input: TensorSpec;
  readonly scale: TensorSpec;
  readonly bias?: TensorSpec;
  readonly output: TensorSpec;
  readonly axis: number;
  readonly epsilon: number;
  readonly lanes: Lanes;
}

export function layerNormSpec(
  target: Target,
  input: TensorSpec,
  scale: TensorSpec,
  bias: TensorSpec | undefined,
  output: TensorSpec,
  axis: number,
  epsilon: number,
  dims?: DimContext,
): LayerNormSpec {
  const shape = input.dims ?? input.shape;
  if (shape.slice(axis).some((d) => typeof d !== 'number')) throw new Error(`LayerNormalization over symbolic axes [${shape.slice(axis).join(',')}] has no kernel; only the leading axes may be symbolic`);
  const rows = dimMax(dims, dimProduct(shape.slice(0, axis)));
  const len = numel(input.shape.slice(axis));
  return {
    kernel: 'layer-norm',
    target: { shaderF16: target.shaderF16 },
    ...(dims ? { dims } : {}),
    input,
    scale,
    ...(bias ? { bias } : {}),
    output,
    axis,
    epsilon,
    lanes: chooseLanes(rows, len, true, 1, REDUCE_PER_LANE),
  };
}

export const layerNorm: KernelGen<LayerNormSpec> = (spec) => {
  const { lanes } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const scale = k.input('scale', spec.scale);
  const bias = spec.bias ? k.input('bias', spec.bias) : undefined;
  const y = k.output('y', spec.output);
  const normShape = spec.input.shape.slice(spec.axis);
  const len = numel(normShape);
  const rows = len === 0 ? 0 : dimProduct((spec.input.dims ?? spec.input.shape).slice(0, spec.axis));

  // A symbolic count's padding workgroups (2-D dispatch) leave at once: a uniform exit, before any barrier.
  const groups = dimCeilDiv(rows, lanes.tx);
  const wg = typeof groups === 'number' ? k.workgroupIndex(groups) : workgroupFlatDim(k, groups);
  const c = laneCoords(k, lanes);
  const row = k.let('row', sumU32([mulConst(wg, lanes.tx), c.x]));
  const base = k.let('base', mulConst(row, len));
  /** This lane's elements of the row: body(index in the row, flat offset). */
  const each = (body: (r: Expr, at: Expr) => void): void =>
    k.if(lt(row, k.dim(rows)), () => k.for('r', c.y, opaque(c, len), (r) => body(r, k.let('at', add(base, r))), lanes.ty));
  const load = (at: Expr): Expr => k.let('v', toCompute(x.load(at), x.value));
  const sum = (a: readonly Expr[], b: readonly Expr[]): Expr[] => [add(a[0]!, b[0]!)];

  // Sums are taken of x - shift, the row's first element: for rows with a large mean (|mean| >> std) that keeps
  // f32 rounding relative to the spread, not to the mean. Deviations are (x - shift) - mean', both near exact.
  const shift = k.var('shift', T.f32, lit.f32(0));
  k.if(lt(row, k.dim(rows)), () => k.assign(shift, load(base)));
  // With the sum, the largest |x - shift| (m): every deviation |x - mean| is at most 2m.
  const s = k.var('s', T.f32, lit.f32(0));
  const m = k.var('m', T.f32, lit.f32(0));
  each((_r, at) => {
    const v = k.let('xs', sub(load(at), shift));
    k.assign(s, add(s, v));
    k.assign(m, pick('max', 'f32', m, builtin('abs', v)));
  });
  const [total, largest] = workgroupReduce(k, lanes, c, ['f32', 'f32'], [s, m], (_k, a, b) => [add(a[0]!, b[0]!), pick('max', 'f32', a[1]!, b[1]!)]);
  const mean = k.let('mean', div(total!, lit.f32(Math.max(len, 1))));
  const deviation = (at: Expr): Expr => k.let('d', sub(sub(load(at), shift), mean));

  // Squares of deviations beyond ~1.8e19 overflow f32 (the reference's float64 does not), so rows that large are
  // scaled: the squares are taken of d / p with p = m (so |d / p| <= 2), and 1/sqrt(var + eps) is computed as
  // 1/(p·sqrt(Σ(d/p)²/n + eps/p²)). Other rows keep p = 1, which changes nothing (d/1, eps/1, 1·sqrt are exact).
  const p = k.let('p', select(gt(largest!, lit.f32(2 ** 40)), largest!, lit.f32(1)));
  const sq = k.var('sq', T.f32, lit.f32(0));
  each((_r, at) => {
    const d = k.let('ds', div(deviation(at), p));
    k.assign(sq, add(sq, mul(d, d)));
  });
  const [squares] = workgroupReduce(k, lanes, c, ['f32'], [sq], (_k, a, b) => sum(a, b));
  const variance = add(div(squares!, lit.f32(Math.max(len, 1))), div(lit.f32(spec.epsilon), mul(p, p)));
  const inv = k.let('inv', div(lit.f32(1), mul(p, builtin('sqrt', variance))));

  each((r, at) => {
    const g = toCompute(scale.load(broadcastIndex(normShape, scale.shape, r)), scale.value);
    let v = mul(mul(deviation(at), inv), g);
    if (bias) v = add(v, toCompute(bias.load(broadcastIndex(normShape, bias.shape, r)), bias.value));
    y.store(at, fromCompute(v, y.value));
  });
  return k.finish();
};
