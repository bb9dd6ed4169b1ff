// Properties of structured pruning at a ratio and with other passes (papers.md §1.7): kept widths are multiples of
// --prune-multiple and never below the floor; per layer each group loses floor(ratio * width) channels, the
// lowest-norm ones; the FLOPs the report gives are the closed form of the pruned widths; exact pruning after
// sparsify changes no output bit; bitpack quantizes pruned widths; and a group the analysis bars would, if sliced
// anyway, change the outputs (the barrier is needed).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pruneReport } from '../../compiler/prune-report.js';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType, tensorsIdentical } from '../../ir/index.js';
import { bitpack, channelFlow, configure, inferShapes, pruneStructured, runPipeline, sparsify } from '../../passes/index.js';
import { channelScores } from '../../passes/prune/select.js';
import { type BlockSpec, type NetSpec, buildNet } from './prune-model.js';

const RUNS = 30;
const prepare = (spec: NetSpec): Graph => runPipeline(buildNet(spec), [inferShapes]).graph;
const widthOf = (g: Graph, weight: string): number => g.constants.find((c) => c.name === weight)!.type.shape[1] as number;

/** Networks of MLP blocks with even hidden widths (so a multiple of 2 divides them), nothing planted. */
const mlpNet: fc.Arbitrary<NetSpec> = fc.record({
  rows: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 2, max: 5 }),
  blocks: fc.array(
    fc.record({ kind: fc.constant('mlp' as const), hidden: fc.integer({ min: 1, max: 8 }).map((h) => 2 * h), act: fc.constantFrom('Relu', 'Gelu' as const), zero: fc.constant([]) }),
    { minLength: 1, maxLength: 3 },
  ),
  seed: fc.nat(),
});

/** The first-layer weight of each block (the block's prunable group's stem). */
const stems = (_g: Graph, blocks: readonly BlockSpec[]): string[] => blocks.map((_, i) => `hidden${i}`);

describe('prune-structured at a ratio', () => {
  it('per layer: each group keeps width - floor(ratio * width) rounded up to the multiple, at least the floor', () => {
    fc.assert(
      fc.property(mlpNet, fc.double({ min: 0.01, max: 0.95, noNaN: true }), fc.constantFrom(1, 2), (spec, ratio, multiple) => {
        const g = prepare(spec);
        const p = runPipeline(g, [configure(pruneStructured, { ratio, multiple, floor: 0.25, only: '^hidden' })]).graph;
        stems(g, spec.blocks).forEach((w, i) => {
          const h = spec.blocks[i]!.hidden;
          const keep = Math.min(h, Math.ceil(Math.max(h - Math.floor(ratio * h), Math.max(1, Math.ceil(0.25 * h))) / multiple) * multiple);
          expect(widthOf(p, w)).toBe(keep);
          expect(widthOf(p, w) % multiple).toBe(0);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('removes the lowest-scoring channels: every kept channel scores at least every removed one', () => {
    fc.assert(
      fc.property(mlpNet, (spec) => {
        const g = prepare(spec);
        const flow = channelFlow(g);
        const load = (n: string) => g.constants.find((c) => c.name === n)!.value!;
        const p = runPipeline(g, [configure(pruneStructured, { ratio: 0.5, only: '^hidden' })]).graph;
        for (const [i, w] of stems(g, spec.blocks).entries()) {
          const root = flow.spaces.root(flow.channels.get(g.nodes.find((n) => n.inputs[1] === w)!.outputs[0]!)!.space);
          const scores = channelScores(flow, root, load, 'l2');
          const keptCols = new Set<number>();
          const before = load(w);
          const after = p.constants.find((c) => c.name === w)!.value!;
          // A kept column of the pruned weight equals one column of the original: find which.
          const h = spec.blocks[i]!.hidden;
          for (let c = 0; c < after.shape[1]!; c++)
            for (let o = 0; o < h; o++) if (Array.from({ length: spec.width }, (_, r) => before.data[r * h + o] === after.data[r * after.shape[1]! + c]).every(Boolean)) keptCols.add(o);
          const kept = [...keptCols].map((c) => scores[c]!);
          const removed = Array.from(scores).filter((_, c) => !keptCols.has(c));
          expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...removed, -Infinity));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the report gives each weight the closed-form parameters and FLOPs of its pruned widths', () => {
    fc.assert(
      fc.property(mlpNet, (spec) => {
        const g = prepare(spec);
        const p = runPipeline(g, [configure(pruneStructured, { ratio: 0.5, only: '^hidden' })]).graph;
        const report = pruneReport('net', g, p)!;
        const [D, N] = [spec.width, spec.rows];
        for (const [i, w] of stems(g, spec.blocks).entries()) {
          const h = widthOf(p, w);
          const row = report.layers.find((l) => l.weight === w)!;
          expect(row.after).toEqual([D, h]);
          expect(row.flopsAfter).toBe(2 * N * h * D); // [N, D] x [D, h]
          expect(row.flopsBefore).toBe(2 * N * spec.blocks[i]!.hidden * D);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('prune-structured with other passes', () => {
  it('exact pruning after sparsify removes the channels sparsify emptied and changes no output bit', () => {
    fc.assert(
      fc.property(mlpNet, fc.double({ min: 0.5, max: 0.95, noNaN: true }), (spec, sparsity) => {
        const sparse = runPipeline(prepare(spec), [configure(sparsify, { sparsity })]).graph;
        const both = runPipeline(sparse, [configure(pruneStructured)]).graph;
        const x = { x: makeTensor('f32', [spec.rows, spec.width], (i) => Math.cos(i * 0.9) * 2) };
        expect(tensorsIdentical(interpret(both, x).logits!, interpret(sparse, x).logits!)).toBe(true);
        // Every column sparsify left all zero (with its zero bias: the planted-free nets' biases are not zero, so
        // only channels whose weight column and bias are both zero go); nothing else.
        for (const w of stems(sparse, spec.blocks)) expect(widthOf(both, w)).toBeLessThanOrEqual(widthOf(sparse, w));
      }),
      { numRuns: RUNS },
    );
  });

  it('bitpack after pruning quantizes the pruned widths: w8a8 stays within 20 % of the largest logit of the pruned float model', () => {
    fc.assert(
      fc.property(mlpNet, (spec) => {
        const pruned = runPipeline(prepare(spec), [configure(pruneStructured, { ratio: 0.5, only: '^hidden' })]).graph;
        const packed = runPipeline(pruned, [configure(bitpack, { bits: 'w8a8' })]).graph;
        const x = { x: makeTensor('f32', [spec.rows, spec.width], (i) => Math.cos(i * 0.9) * 2) };
        const [want, got] = [interpret(pruned, x).logits!.data, interpret(packed, x).logits!.data];
        const scale = Math.max(...want.map(Math.abs), 1e-3);
        want.forEach((v, i) => expect(Math.abs(got[i]! - v) / scale).toBeLessThan(0.2));
      }),
      { numRuns: RUNS },
    );
  });

  it('a barred group sliced anyway changes the outputs: the LayerNormalization barrier is needed', () => {
    // x -> stem with a zero channel (1) -> LayerNormalization over the channels -> head.
    const lnNet = (w: number[], gamma: number[], v: number[]): Graph => {
      const c = gamma.length;
      const b = new GraphBuilder('ln');
      const x = b.input('x', tensorType('f32', [1, 2]));
      const h = b.op('MatMul', [x, b.constant(makeTensor('f32', [2, c], w), 'w')], {}, { names: ['h'] });
      const n = b.op('LayerNormalization', [h, b.constant(makeTensor('f32', [c], gamma), 'gamma')], { axis: -1 });
      b.output(b.op('MatMul', [n, b.constant(makeTensor('f32', [c, 1], v), 'v')], {}, { names: ['y'] }));
      return runPipeline(b.build(), [inferShapes]).graph;
    };
    const net = lnNet([1, 0, 2, 3, 0, 4], [1, 1, 1], [1, 2, 3]);
    const flow = channelFlow(net);
    const root = flow.spaces.root(flow.channels.get('h')!.space);
    expect(flow.spaces.get(root).barriers.join()).toMatch(/LayerNormalization reads the channels/);
    expect(runPipeline(net, [configure(pruneStructured)]).graph.constants.find((c) => c.name === 'w')!.type.shape).toEqual([2, 3]);
    // The zero channel sliced out of the stem, the norm's scale and the head anyway: the others' mean and variance move.
    const forced = lnNet([1, 2, 3, 4], [1, 1], [1, 3]);
    const input = { x: makeTensor('f32', [1, 2], [0.3, -1.2]) };
    expect(tensorsIdentical(interpret(forced, input).y!, interpret(net, input).y!)).toBe(false);
  });
});
