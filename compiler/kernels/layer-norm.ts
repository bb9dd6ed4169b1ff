// LayerNormalization over the trailing axes [axis, rank): each row (the leading axes, flattened) is normalised by
// its mean and variance, then scaled and shifted by Scale and the optional B (both broadcast to the normalised
// shape). Two passes in f32, like the interpreter: the mean (lanes sum, tree in workgroup memory), then the
// variance as the mean of squared deviations (a second tree), so there is no cancellation between E[x²] and E[x]².
// A third pass over the row writes the output; rows of any length take one workgroup (several when short).
import { broadcastIndex } from '../wgsl/broadcast.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { add, builtin, div, lit, lt, mul, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import { fromCompute, toCompute } from './convert-wgsl.js';
import type { TensorSpec } from './elementwise.js';
import { type Lanes, chooseLanes, laneCoords, opaque, product, workgroupReduce } from './reduce.js';

export interface LayerNormSpec extends KernelSpecBase {
  readonly kernel: 'layer-norm';
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
): LayerNormSpec {
  const rows = product(input.shape.slice(0, axis));
  const len = product(input.shape.slice(axis));
  return {
    kernel: 'layer-norm',
    target: { shaderF16: target.shaderF16 },
    input,
    scale,
    ...(bias ? { bias } : {}),
    output,
    axis,
    epsilon,
    lanes: chooseLanes(rows, len, true),
  };
}

export const layerNorm: KernelGen<LayerNormSpec> = (spec) => {
  const { lanes } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty });
  const x = k.input('x', spec.input);
  const scale = k.input('scale', spec.scale);
  const bias = spec.bias ? k.input('bias', spec.bias) : undefined;
  const y = k.output('y', spec.output);
  const normShape = spec.input.shape.slice(spec.axis);
  const len = product(normShape);
  const rows = len === 0 ? 0 : product(spec.input.shape.slice(0, spec.axis));

  const wg = k.workgroupIndex(Math.ceil(rows / lanes.tx));
  const c = laneCoords(k, lanes);
  const row = k.let('row', sumU32([mulConst(wg, lanes.tx), c.x]));
  const base = k.let('base', mulConst(row, len));
  /** This lane's elements of the row: body(index in the row, flat offset). */
  const each = (body: (r: Expr, at: Expr) => void): void =>
    k.if(lt(row, lit.u32(rows)), () => k.for('r', c.y, opaque(c, len), (r) => body(r, k.let('at', add(base, r))), lanes.ty));
  const load = (at: Expr): Expr => k.let('v', toCompute(x.load(at), x.value));
  const f32 = { kind: 'scalar', scalar: 'f32' } as const;
  const sum = (a: readonly Expr[], b: readonly Expr[]): Expr[] => [add(a[0]!, b[0]!)];

  // Sums are taken of x - shift, the row's first element: for rows with a large mean (|mean| >> std) that keeps
  // f32 rounding relative to the spread, not to the mean. Deviations are (x - shift) - mean', both near exact.
  const shift = k.var('shift', f32, lit.f32(0));
  k.if(lt(row, lit.u32(rows)), () => k.assign(shift, load(base)));
  const s = k.var('s', f32, lit.f32(0));
  each((_r, at) => k.assign(s, add(s, sub(load(at), shift))));
  const [total] = workgroupReduce(k, lanes, c, ['f32'], [s], (_k, a, b) => sum(a, b));
  const mean = k.let('mean', div(total!, lit.f32(Math.max(len, 1))));
  const deviation = (at: Expr): Expr => k.let('d', sub(sub(load(at), shift), mean));

  const sq = k.var('sq', f32, lit.f32(0));
  each((_r, at) => {
    const d = deviation(at);
    k.assign(sq, add(sq, mul(d, d)));
  });
  const [squares] = workgroupReduce(k, lanes, c, ['f32'], [sq], (_k, a, b) => sum(a, b));
  const inv = k.let('inv', div(lit.f32(1), builtin('sqrt', add(div(squares!, lit.f32(Math.max(len, 1))), lit.f32(spec.epsilon)))));

  each((r, at) => {
    const g = toCompute(scale.load(broadcastIndex(normShape, scale.shape, r)), scale.value);
    let v = mul(mul(deviation(at), inv), g);
    if (bias) v = add(v, toCompute(bias.load(broadcastIndex(normShape, bias.shape, r)), bias.value));
    y.store(at, fromCompute(v, y.value));
  });
  return k.finish();
};
