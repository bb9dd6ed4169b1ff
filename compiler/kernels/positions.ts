// Positions(pos){count}: out[t] = pos + t, the absolute positions of a step's rows (to gather learned position
// embeddings). The position is read from its uniform at run time, so the kernel is the same at every step.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, convert } from '../wgsl/dsl.js';
import { stepScalar, storeEachElement } from './lib/index.js';

export interface PositionsSpec extends KernelSpecBase {
  readonly kernel: 'positions';
  readonly count: number;
}

export const positions: KernelGen<PositionsSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target });
  const pos = stepScalar(k, 'pos');
  const out = k.output('y', { dtype: 'i32', shape: [spec.count] });
  storeEachElement(k, out, (t) => add(pos, convert('i32', t)));
  return k.finish();
};
