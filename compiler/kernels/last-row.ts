// LastRow(x[T, ...], len) -> x[len - 1]: the last valid row of a padded step (the token whose logits choose the
// next one). len comes from its uniform, so the row is picked at run time; len = 0 (an interpreter error) reads
// row 0 rather than out of bounds. The copy goes through the accessor's value type, so any dtype works, packed
// ones included (a row need not start on a storage word).
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, lit, mulConst, sub } from '../wgsl/dsl.js';
import { type TensorSpec, stepLen, storeEachElement } from './lib/index.js';

export interface LastRowSpec extends KernelSpecBase {
  readonly kernel: 'last-row';
  /** [T, ...]; the output is one row of it. */
  readonly input: TensorSpec;
}

export const lastRow: KernelGen<LastRowSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target });
  const [rows, ...rowShape] = spec.input.shape as [number, ...number[]];
  const width = numel(rowShape);
  const x = k.input('x', spec.input);
  const len = stepLen(k, rows);
  const out = k.output('y', { dtype: spec.input.dtype, shape: rowShape });
  // max(len, 1) - 1: row len-1, or row 0 when len is 0.
  const row = k.let('row', sub(builtin('max', len, lit.u32(1)), lit.u32(1)));
  const base = k.let('base', mulConst(row, width));
  storeEachElement(k, out, (e) => x.load(add(base, e)));
  return k.finish();
};
