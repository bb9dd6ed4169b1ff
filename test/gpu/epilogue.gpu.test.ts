// Elementwise followers of matmul and conv run in the anchor's epilogue: one dispatch, same numbers as the
// interpreter computing them one op at a time.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const rand = (seed: number) => (i: number): number => Math.sin(i * 12.9898 + seed * 78.233) * 2;

describe('epilogue fusion', () => {
  it('MatMul + bias + Gelu + residual Add + Clip is one kernel and matches the interpreter', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('f32', [5, 33]));
    const r = b.input('r', tensorType('f32', [5, 17]));
    const w = b.constant(makeTensor('f32', [33, 17], rand(1)));
    const bias = b.constant(makeTensor('f32', [17], rand(2)));
    const y = b.op('Clip', [b.op('Add', [r, b.op('Gelu', [b.op('Add', [b.op('MatMul', [x, w]), bias])])])], { min: -1, max: 1.5 });
    const g = b.output(y).build();
    expect(compileGraph(g).manifest.entryPoints.run!.dispatches).toHaveLength(1);
    await expectGpuMatchesInterpreter(g, { x: makeTensor('f32', [5, 33], rand(3)), r: makeTensor('f32', [5, 17], rand(4)) }, { rtol: 1e-4, atol: 1e-5 });
  });

  it('Conv + Sub with the running value second + Relu', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('f32', [1, 3, 9, 9]));
    const w = b.constant(makeTensor('f32', [20, 3, 3, 3], rand(5)));
    const c = b.constant(makeTensor('f32', [20, 1, 1], rand(6)));
    const y = b.op('Relu', [b.op('Sub', [c, b.op('Conv', [x, w], { pads: [1, 1, 1, 1] })])]);
    const g = b.output(y).build();
    expect(compileGraph(g).manifest.entryPoints.run!.dispatches).toHaveLength(1);
    await expectGpuMatchesInterpreter(g, { x: makeTensor('f32', [1, 3, 9, 9], rand(7)) }, { rtol: 1e-4, atol: 1e-5 });
  });

  it('leaves a follower whose operand is computed after the anchor, or whose input is also an output, unfused', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('f32', [4, 4]));
    const w = b.constant(makeTensor('f32', [4, 4], rand(8)));
    const m = b.op('MatMul', [x, w]);
    const late = b.op('Exp', [x]);
    const g = b.output(b.op('Add', [m, late])).build();
    // The Add cannot join the MatMul (its other operand comes later); it fuses with the Exp instead.
    expect(compileGraph(g).manifest.entryPoints.run!.dispatches.map((d) => d.label.match(/= (\w+)\(/g)!.join(' '))).toEqual(['= MatMul(', '= Exp( = Add(']);
    const b2 = new GraphBuilder();
    const x2 = b2.input('x', tensorType('f32', [4, 4]));
    const m2 = b2.op('MatMul', [x2, b2.constant(makeTensor('f32', [4, 4], rand(9)))]);
    const g2 = b2.output(m2, b2.op('Relu', [m2])).build();
    expect(compileGraph(g2).manifest.entryPoints.run!.dispatches).toHaveLength(2);
  });
});
