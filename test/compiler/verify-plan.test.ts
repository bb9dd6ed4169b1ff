// The lowered-program verifier (compiler/verify-plan.ts) on real compiles: a correct plan passes; a lowering that
// binds the wrong values (a constant as the output, an i32 tensor where the kernel reads f32, too few arguments)
// makes the compile fail naming the dispatch and the binding, before anything is emitted.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import type { NodeLowering } from '../../compiler/lower/lowering.js';
import { LOWERINGS } from '../../compiler/lower/table.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';

function graph() {
  const b = new GraphBuilder('g');
  const x = b.input('x', tensorType('f32', [2, 4]));
  const i = b.input('i', tensorType('i32', [2, 4]));
  const c = b.constant(makeTensor('f32', [2, 4], (k) => k), 'c');
  b.output(b.op('Transpose', [b.op('Add', [x, c])], { perm: [1, 0] }), b.op('Neg', [i]));
  return b.build();
}

/** The Transpose lowering with its arguments rewritten by `edit`. */
const transposeWith =
  (edit: (args: { value: string }[], node: { inputs: readonly string[] }) => { value: string }[]): NodeLowering =>
  (node, cx) => {
    const lowered = LOWERINGS.Transpose!(node, cx);
    if (lowered.kind !== 'steps') throw new Error('expected steps');
    return { kind: 'steps', steps: lowered.steps.map((s) => ({ ...s, args: edit(s.args as { value: string }[], node) })) };
  };

describe('the lowered-program verifier', () => {
  it('passes a correct plan', () => {
    expect(() => compileGraph(graph())).not.toThrow();
  });

  it('refuses a kernel writing into the weights', () => {
    const lowerings = { ...LOWERINGS, Transpose: transposeWith((args) => [args[0]!, { value: 'c' }]) };
    expect(() => compileGraph(graph(), { lowerings })).toThrow(/entry 'run', dispatch \d+ \(%v\d+ = Transpose\(%v\d+\)\), kernel [\w-]+, binding 1 '\w+' \(%c\): writes into the weights/);
  });

  it('refuses a binding whose value has another dtype than the kernel reads', () => {
    const lowerings = { ...LOWERINGS, Transpose: transposeWith((args) => [{ value: 'i' }, args[1]!]) };
    expect(() => compileGraph(graph(), { lowerings })).toThrow(/binding 0 '\w+' \(%i\): the kernel reads f32 but %i is i32/);
  });

  it('refuses a step with fewer arguments than its kernel has bindings', () => {
    const lowerings = { ...LOWERINGS, Transpose: transposeWith((args) => args.slice(0, 1)) };
    expect(() => compileGraph(graph(), { lowerings })).toThrow(/1 arguments for 2 bindings/);
  });
});
