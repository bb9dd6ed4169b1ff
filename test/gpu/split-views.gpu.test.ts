// A Split into contiguous pieces of a computed value (a decoder step's fused QKV row), each on a 256-byte
// boundary, runs no kernel: the pieces are views of the input's memory (compiler/lower/movement-lowerings.ts
// splitViews). Views feed kernels, are graph outputs, are reshaped (an alias of a view), and the planner keeps the
// input alive while any view is read. Pieces off a bindable offset, or interleaved rows, still copy.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { type Graph, GraphBuilder, tensorType } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

/** y = Split(Relu(x) , sizes along axis); outputs: piece 0 + 1, Reshape(piece 1), piece 2 (as is), and a later op on piece 0. */
function splitGraph(shape: number[], axis: number, sizes: number[]): Graph {
  const b = new GraphBuilder('split');
  const x = b.input('x', tensorType('f32', shape));
  const h = b.op('Relu', [x]);
  const [p0, p1, p2] = b.node('Split', [h], { axis, split: sizes });
  const flat = b.op('Reshape', [p1!], { shape: [-1] });
  b.output(b.op('Add', [p0!, p1!]), flat, p2!, b.op('Neg', [p0!]));
  return b.build();
}

const splitKernels = (g: Graph): number =>
  compileGraph(g, { source: 'test' }).manifest.entryPoints.run!.dispatches.filter((d) => d.label.includes('Split(')).length;

describe('Split as views', () => {
  it('contiguous pieces on 256-byte offsets are views: no kernel, outputs match the interpreter', async () => {
    for (const [shape, axis, sizes] of [
      [[1, 192], 1, [64, 64, 64]],
      [[12, 32], 0, [4, 4, 4]],
      [[1, 1, 640], 2, [128, 128, 384]],
    ] as [number[], number, number[]][]) {
      const g = splitGraph(shape, axis, sizes);
      expect(splitKernels(g), `[${shape}] axis ${axis}`).toBe(0);
      await expectGpuMatchesInterpreter(g, { x: randomTensor('f32', shape, 7) }, { rtol: 0, atol: 0 });
    }
  }, 60_000);

  it('pieces off a bindable offset, or interleaved rows, are copied by kernels and still match', async () => {
    for (const [shape, axis, sizes] of [
      [[1, 96], 1, [32, 32, 32]],
      [[2, 192], 1, [64, 64, 64]],
    ] as [number[], number, number[]][]) {
      const g = splitGraph(shape, axis, sizes);
      expect(splitKernels(g), `[${shape}] axis ${axis}`).toBeGreaterThan(0);
      await expectGpuMatchesInterpreter(g, { x: randomTensor('f32', shape, 8) }, { rtol: 0, atol: 0 });
    }
  }, 60_000);
});
