// Values every lane of a subgroup needs (a GEMV's activations), loaded once and handed round: on lavapipe every
// load inside a loop is an exec-masked per-lane loop with a bounds check, uniform addresses included (seen with
// GALLIVM_DEBUG=asm), so n values loaded by each lane cost n loads per lane; loaded by up to 4 lanes and handed to
// all by subgroupBroadcast they cost n / 4. Only WebGPU's minimum subgroup size, 4 lanes, is assumed.
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { add, and, builtin, lit } from '../../wgsl/dsl.js';

/**
 * Values 0..count-1 (a power of two) for every lane: value i is `load(i)` as evaluated by one lane. `lane` is the
 * lane's share index (subgroupShareLane), declared before the loop that shares.
 */
export function subgroupShared(k: KernelBuilder, lane: Expr, count: number, load: (i: Expr) => Expr): Expr[] {
  const lanes = Math.min(4, count);
  const own = Array.from({ length: count / lanes }, (_, h) => k.let('own', load(h ? add(lane, lit.u32(h * lanes)) : lane)));
  return Array.from({ length: count }, (_, i) => k.let('bcast', builtin('subgroupBroadcast', own[Math.floor(i / lanes)]!, lit.u32(i % lanes))));
}

/** The lane's index among the sharers of `count` values: subgroup_invocation_id mod min(4, count). */
export const subgroupShareLane = (k: KernelBuilder, count: number): Expr => k.let('share', and(k.builtinInput('subgroup_invocation_id'), lit.u32(Math.min(4, count) - 1)));
