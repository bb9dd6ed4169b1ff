import { describe, expect, it } from 'vitest';
import { planEpilogues } from '../../compiler/lower/fuse-epilogue.js';
import { planElementwiseFusion } from '../../compiler/lower/fuse.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { bitpack, configure, inferShapes, runPipeline } from '../../passes/index.js';

const ops = (nodes: readonly { op: string }[] | undefined): string[] => (nodes ?? []).map((n) => n.op);

describe('elementwise fusion planning', () => {
  it('fuses a single-use chain into its last node', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('f32', [4, 8]));
    const bias = b.constant(makeTensor('f32', [8], () => 1));
    const y = b.op('Tanh', [b.op('Mul', [b.op('Add', [x, bias]), x])]);
    const g = b.output(y).build();
    const plan = planElementwiseFusion(g);
    expect(plan.groups.size).toBe(1);
    expect(ops(plan.groups.get(g.nodes[2]!))).toEqual(['Add', 'Mul', 'Tanh']);
    expect(plan.absorbed.size).toBe(2);
  });

  it('keeps a value with a second consumer, or that is a graph output, out of the group', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('f32', [16]));
    const shared = b.op('Exp', [x]);
    const a = b.op('Neg', [shared]);
    const c = b.op('Abs', [shared]);
    const g = b.output(a, c).build();
    const plan = planElementwiseFusion(g);
    expect(plan.groups.size).toBe(0);
    const b2 = new GraphBuilder();
    const x2 = b2.input('x', tensorType('f32', [16]));
    const e = b2.op('Exp', [x2]);
    const g2 = b2.output(e, b2.op('Neg', [e])).build();
    expect(planElementwiseFusion(g2).groups.size).toBe(0);
  });

  it('does not fuse across a broadcast, f16 intermediates, or past the binding limit', () => {
    const b = new GraphBuilder();
    const small = b.input('s', tensorType('f32', [8]));
    const big = b.input('b', tensorType('f32', [4, 8]));
    const g = b.output(b.op('Add', [b.op('Exp', [small]), big])).build();
    expect(planElementwiseFusion(g).groups.size).toBe(0);

    const h = new GraphBuilder();
    const x = h.input('x', tensorType('f16', [8]));
    const gh = h.output(h.op('Neg', [h.op('Exp', [x])])).build();
    expect(planElementwiseFusion(gh).groups.size).toBe(0);

    const w = new GraphBuilder();
    const ins = Array.from({ length: 9 }, (_, i) => w.input(`x${i}`, tensorType('f32', [8])));
    let acc = ins[0]!;
    for (const v of ins.slice(1)) acc = w.op('Add', [acc, v]);
    const gw = w.output(acc).build();
    const plan = planElementwiseFusion(gw);
    for (const group of plan.groups.values()) expect(new Set(group.flatMap((n) => n.inputs)).size - (group.length - 1)).toBeLessThanOrEqual(7);
  });
});

describe('BitMatMul scaling chains (fuse-bit-scaling.ts)', () => {
  const layer = (k: number, group: number, exposeSums: boolean) => {
    const b = new GraphBuilder('bits');
    const x = b.input('x', tensorType('f32', [2, k]));
    const w = b.constant(makeTensor('f32', [8, k], (i) => Math.sin(i)), 'w');
    const y = b.op('Relu', [b.op('Gemm', [x, w, b.constant(makeTensor('f32', [8], () => 0.5), 'bias')], { transB: 1 })]);
    const g = runPipeline(b.output(y).build(), [configure(inferShapes), configure(bitpack, { bits: 'w4a8', group })]).graph;
    if (!exposeSums) return g;
    // The per-group scaled sums also leave the graph: the chain stops before them.
    const scaled = g.nodes.find((n) => n.op === 'Mul')!.outputs[0]!;
    return { ...g, outputs: [...g.outputs, scaled] };
  };

  it('folds Cast, the scales, the group sum and the row scale, then the bias and Relu, into the integer GEMV', () => {
    const g = layer(64, 32, false);
    const anchor = g.nodes.find((n) => n.op === 'BitMatMul')!;
    const e = planEpilogues(g).epilogues.get(anchor)!;
    expect(ops(e.nodes)).toEqual(['Cast', 'Mul', 'ReduceSum', 'Mul', 'Add', 'Relu']);
    expect(e.bitScaling).toEqual({ scales: expect.stringMatching(/^w\.scales/), rowScales: expect.stringMatching(/\.xs$/) });
    expect(e.output).toBe(g.outputs[0]);
  });

  it('leaves the chain alone where an intermediate is read elsewhere, and where no integer GEMV applies', () => {
    expect(planEpilogues(layer(64, 32, true)).epilogues.size).toBe(0);
    // K = 40: not whole 16-byte steps of 4-bit codes, so the bit-plane kernels compute the sums.
    const g = layer(40, 0, false);
    expect(planEpilogues(g).epilogues.has(g.nodes.find((n) => n.op === 'BitMatMul')!)).toBe(false);
  });
});
