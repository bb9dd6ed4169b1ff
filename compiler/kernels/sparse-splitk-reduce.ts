// The second dispatch of a split-K sparse matmul: y[n, m] = sum over slices s of partials[s, n, m] + bias[m].
// WGSL has no float atomics, so the K slices write f32 partials to a workspace and this kernel adds them, in slice
// order, with the bias last (one invocation per output). A y packed two halves per word (f16 without
// shader-f16) is written a whole word per invocation, so neighbouring outputs never share a store.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, builtin, lit, lt, member, mod, mul, mulConst } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, toCompute } from './lib/index.js';

export interface SplitKReduceSpec extends KernelSpecBase {
  readonly kernel: 'sparse-splitk-reduce';
  readonly m: number;
  readonly n: number;
  readonly splitK: number;
  /** f32 [splitK * N * M]. */
  readonly partials: TensorSpec;
  readonly bias?: TensorSpec;
  /** y: [..., M] of x's dtype. */
  readonly out: TensorSpec;
}

const u = lit.u32;

export const sparseSplitKReduce: KernelGen<SplitKReduceSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const partials = k.input('partials', spec.partials);
  const bias = spec.bias && k.input('bias', spec.bias);
  const out = k.output('y', spec.out);
  const outputs = spec.n * spec.m;
  // The slice count is a loop bound the shader compiler must not unroll (compile time on lavapipe).
  const one = k.let('one', builtin('min', member(k.builtinInput('num_workgroups'), 'z'), u(1)));
  const sumAt = (flat: Expr): Expr => {
    const sum = k.var('sum', T.f32, lit.f32(0));
    k.for('s', u(0), mul(u(spec.splitK), one), (s) => k.compound('+=', sum, partials.load(add(mulConst(s, outputs), flat))));
    return bias ? add(sum, toCompute(bias.load(mod(flat, u(spec.m))), bias.value)) : sum;
  };
  const units = out.packed ? out.words : outputs;
  const i = k.globalIndex(units);
  k.if(lt(i, u(units)), () => {
    if (out.packed) out.storeLanes(i, sumAt);
    else out.store(i, fromCompute(sumAt(i), out.value));
  });
  return k.finish();
};
