// sparsify: which weights are eligible, how many elements each loses, and that exactly the smallest go.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { configure, inferShapes, matmulWeights, runPipeline, sparsify } from '../../passes/index.js';

function mlp(w1: number[], w2: number[], k = 4, h = 6, m = 3): Graph {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', tensorType('f32', [2, k]));
  const a = b.constant(makeTensor('f32', [k, h], w1), 'w1');
  const c = b.constant(makeTensor('f32', [m, h], w2), 'w2');
  const hidden = b.op('MatMul', [x, a], {}, { names: ['hid'] });
  return b.output(b.op('Gemm', [hidden, c], { transB: 1 }, { names: ['y'] })).build();
}

const run = (g: Graph, sparsify_: object): Graph => runPipeline(g, [inferShapes, configure(sparsify, sparsify_ as Record<string, unknown>)]).graph;
const valuesOf = (g: Graph, name: string): Float64Array => g.constants.find((c) => c.name === name)!.value!.data;
const zeros = (v: Float64Array): number => v.reduce((s, x) => s + (x === 0 ? 1 : 0), 0);
const arbWeights = (n: number) => fc.array(fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });

describe('sparsify', () => {
  it('finds MatMul and Gemm weights with their A = [M, K] orientation', () => {
    const w = matmulWeights(mlp(new Array(24).fill(1), new Array(18).fill(1)));
    expect(w.map((x) => [x.constant.name, x.uses[0]!.m, x.uses[0]!.k, x.uses[0]!.transposed])).toEqual([
      ['w1', 6, 4, true],
      ['w2', 3, 6, false],
    ]);
  });

  it('leaves weights alone that something else reads (tied embeddings)', () => {
    const b = new GraphBuilder('tied');
    const ids = b.input('ids', tensorType('i32', [2]));
    const table = b.constant(makeTensor('f32', [5, 4], (i) => i), 'wte');
    const e = b.op('Gather', [table, ids], { axis: 0 });
    b.output(b.op('Gemm', [e, table], { transB: 1 }));
    expect(matmulWeights(b.build())).toEqual([]);
  });

  it('per layer: zeroes exactly round(s*n) elements, the smallest in magnitude, and keeps the rest bit for bit', () => {
    fc.assert(
      fc.property(arbWeights(24), arbWeights(18), fc.double({ min: 0, max: 1, noNaN: true }), (w1, w2, s) => {
        const before = mlp(w1, w2);
        const after = run(before, { sparsity: s });
        for (const name of ['w1', 'w2']) {
          const old = valuesOf(before, name);
          const now = valuesOf(after, name);
          expect(zeros(now)).toBeGreaterThanOrEqual(Math.round(s * old.length));
          expect(zeros(now)).toBeLessThanOrEqual(Math.max(Math.round(s * old.length), zeros(old)));
          let largestDropped = 0;
          let smallestKept = Infinity;
          now.forEach((v, i) => {
            if (v === 0) largestDropped = Math.max(largestDropped, Math.abs(old[i]!));
            else {
              expect(v).toBe(old[i]);
              smallestKept = Math.min(smallestKept, Math.abs(v));
            }
          });
          expect(largestDropped).toBeLessThanOrEqual(smallestKept);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('global: one threshold across layers, with a per-layer density floor', () => {
    // w1 is all large, w2 all small: the global 50 % cut (21 of 42) takes all of w2 and the 3 smallest of w1;
    // the floor keeps 1/3 of w2, and w1 still loses only what is under the threshold.
    const g = mlp(new Array(24).fill(0).map((_, i) => 10 + i), new Array(18).fill(0).map((_, i) => 0.1 + i / 100));
    const after = run(g, { sparsity: 0.5, scope: 'global', floor: 1 / 3 });
    expect(zeros(valuesOf(after, 'w2'))).toBe(12);
    expect(zeros(valuesOf(after, 'w1'))).toBe(3);
    expect(Array.from(valuesOf(after, 'w1')).slice(0, 4)).toEqual([0, 0, 0, 13]);
    const noFloor = run(g, { sparsity: 0.4, scope: 'global', floor: 0 });
    expect(zeros(valuesOf(noFloor, 'w2'))).toBe(16);
    expect(zeros(valuesOf(noFloor, 'w1'))).toBe(0);
  });

  it('is deterministic and rejects bad options with a clear message', () => {
    const g = mlp(new Array(24).fill(1), new Array(18).fill(-1));
    const a = run(g, { sparsity: 0.5 });
    expect(Array.from(valuesOf(a, 'w1'))).toEqual(Array.from(valuesOf(run(g, { sparsity: 0.5 }), 'w1')));
    // Equal magnitudes: the lower indices go first.
    expect(Array.from(valuesOf(a, 'w1')).slice(0, 12)).toEqual(new Array(12).fill(0));
    expect(() => run(g, { sparsity: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => run(g, { sparsity: 0.5, scope: 'rows' })).toThrow(/'layer' or 'global'/);
  });
});
