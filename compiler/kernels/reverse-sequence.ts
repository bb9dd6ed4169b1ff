// ReverseSequence: each element (storage word, when packed) reads its source along the time axis: t < len reads
// len - 1 - t, later ones themselves, with len = sequence_lens[b] for its batch entry b. A length outside
// 0..time is clamped into it (the interpreter reports it as an error), so no read leaves the tensor.
import { strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, convert, lit, lt, mulConst, select, sub } from '../wgsl/dsl.js';
import { type TensorSpec, storeEachElement, unflatten } from './lib/index.js';

export interface ReverseSequenceSpec extends KernelSpecBase {
  readonly kernel: 'reverse-sequence';
  readonly input: TensorSpec;
  /** i32 [batch]. */
  readonly lens: TensorSpec;
  readonly batchAxis: number;
  readonly timeAxis: number;
  readonly workgroupSize: number;
}

export const reverseSequence: KernelGen<ReverseSequenceSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.input);
  const lens = k.input('lens', spec.lens);
  const out = k.output('out', spec.input);
  const T = spec.input.shape[spec.timeAxis]!;
  const ts = strides(spec.input.shape)[spec.timeAxis]!;
  storeEachElement(k, out, (flat) => {
    const c = unflatten(flat, spec.input.shape);
    const t = k.let('t', convert('i32', c[spec.timeAxis]!));
    const len = k.let('len', builtin('clamp', lens.load(c[spec.batchAxis]!), lit.i32(0), lit.i32(T)));
    const src = select(lt(t, len), sub(sub(len, lit.i32(1)), t), t);
    // flat - t * ts + src * ts, in u32 (src and t are both in 0..T-1).
    return x.load(add(sub(flat, mulConst(convert('u32', t), ts)), mulConst(convert('u32', src), ts)));
  });
  return k.finish();
};
