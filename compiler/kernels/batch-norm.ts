// Inference-mode BatchNormalization: a per-channel affine map with the running statistics, one invocation per
// element, channels on axis 1 of X = (N, C, D1, ...). Computed in f32 as the interpreter does it, (x - mean) * k + B
// with k = scale / sqrt(var + epsilon): not folded into x * k + (B - mean * k), which cancels badly when x is close
// to a large mean.
import { dimProduct } from '../../ir/dim.js';
import type { DimContext } from '../wgsl/dims.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { add, builtin, div, lit, lt, mod, mul, sub } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, toCompute } from './lib/index.js';

export interface BatchNormSpec extends KernelSpecBase {
  readonly kernel: 'batch-norm';
  readonly input: TensorSpec;
  /** scale, B, input_mean and input_var: all [C] of the input's dtype. */
  readonly params: TensorSpec;
  readonly output: TensorSpec;
  readonly epsilon: number;
  readonly workgroupSize: number;
  /** Set when X has symbolic dims (batch, spatial): sizes come from the dims uniform. */
  readonly dims?: DimContext;
}

export function batchNormSpec(target: Target, input: TensorSpec, params: TensorSpec, output: TensorSpec, epsilon: number, dims?: DimContext): BatchNormSpec {
  return { kernel: 'batch-norm', target: { shaderF16: target.shaderF16 }, input, params, output, epsilon, workgroupSize: 256, ...(dims ? { dims } : {}) };
}

export const batchNorm: KernelGen<BatchNormSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const [scale, bias, mean, variance] = (['scale', 'bias', 'mean', 'variance'] as const).map((n) => k.input(n, spec.params)) as [typeof x, typeof x, typeof x, typeof x];
  const y = k.output('y', spec.output);
  const shape = spec.input.dims ?? spec.input.shape;
  const channels = shape[1]!;
  const inner = dimProduct(shape.slice(2));
  const count = dimProduct(shape);
  const i = spec.dims ? k.globalIndexDim(count) : k.globalIndex(count as number);
  k.if(lt(i, k.dim(count)), () => {
    let ch: Expr = inner === 1 ? i : div(i, k.dim(inner));
    // Past one image the channel wraps; a batch that is always 1 never does.
    if (shape[0] !== 1) ch = mod(ch, k.dim(channels));
    const c = k.let('c', ch);
    const p = (t: typeof x): Expr => toCompute(t.load(c), t.value);
    const kk = k.let('k', div(p(scale), builtin('sqrt', add(p(variance), lit.f32(spec.epsilon)))));
    const v = add(mul(sub(toCompute(x.load(i), x.value), p(mean)), kk), p(bias));
    y.store(i, fromCompute(v, y.value));
  });
  return k.finish();
};
