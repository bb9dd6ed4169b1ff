// Properties of the structured-pruning analysis and its exact mode (papers.md §1.7) on random networks with
// residuals, gated branches, concatenations and affine pairs (prune-model.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, interpret, makeTensor, tensorsIdentical } from '../../ir/index.js';
import { channelFlow, configure, inferShapes, pruneStructured, runPipeline } from '../../passes/index.js';
import { type BlockSpec, type NetSpec, blockChannels, buildNet, parameters } from './prune-model.js';

const RUNS = 40;

const block: fc.Arbitrary<BlockSpec> = fc
  .record({
    kind: fc.constantFrom('mlp', 'gated', 'concat', 'affine' as const),
    hidden: fc.integer({ min: 2, max: 9 }),
    act: fc.constantFrom('Relu', 'Gelu', 'Tanh', 'Sigmoid' as const),
    pick: fc.array(fc.nat(), { maxLength: 6 }),
  })
  .map(({ pick, ...b }) => ({ ...b, zero: [...new Set(pick.map((p) => p % blockChannels({ ...b, zero: [] })))].sort((x, y) => x - y) }));

const net: fc.Arbitrary<NetSpec> = fc.record({
  rows: fc.integer({ min: 1, max: 3 }),
  width: fc.integer({ min: 2, max: 6 }),
  blocks: fc.array(block, { minLength: 1, maxLength: 4 }),
  seed: fc.nat(),
});

const prepare = (spec: NetSpec): Graph => runPipeline(buildNet(spec), [inferShapes]).graph;
const prune = (g: Graph): Graph => runPipeline(g, [configure(pruneStructured)]).graph;
const inputOf = (spec: NetSpec, seed: number) => ({ x: makeTensor('f32', [spec.rows, spec.width], (i) => Math.sin(i * 1.7 + seed) * 3) });

/**
 * Planted channels a block loses: all of them, unless the activation turns a zero into a non-zero (Sigmoid). A
 * group whose every channel is zero is erased with its operators (the block's output joins only the residual Add);
 * a concatenation's branch that is all zero while the other is not keeps one channel (its part cannot go alone).
 */
function expectedLoss(b: BlockSpec): { channels: number; erased: boolean } {
  if (b.act === 'Sigmoid') return { channels: 0, erased: false };
  if (b.kind !== 'concat') return { channels: b.zero.length, erased: b.zero.length === b.hidden };
  if (b.zero.length === 2 * b.hidden) return { channels: 2 * b.hidden, erased: true };
  const left = b.zero.filter((c) => c < b.hidden).length;
  return { channels: Math.min(left, b.hidden - 1) + Math.min(b.zero.length - left, b.hidden - 1), erased: false };
}

describe('prune-structured (exact)', () => {
  it('removes exactly the planted zero channels, and the interpreter outputs stay bit-identical', () => {
    fc.assert(
      fc.property(net, fc.integer(), (spec, inSeed) => {
        const g = prepare(spec);
        const p = prune(g);
        const x = inputOf(spec, inSeed);
        expect(tensorsIdentical(interpret(p, x).logits!, interpret(g, x).logits!)).toBe(true);
        // A gated block's channel is a column of both its gate and its up projection; an erased block's output
        // projection goes too.
        const lost = spec.blocks.reduce((n, b) => {
          const { channels, erased } = expectedLoss(b);
          return n + channels * (b.kind === 'gated' ? 2 : 1) + (erased ? spec.width : 0);
        }, 0);
        expect(channelCount(g) - channelCount(p)).toBe(lost);
      }),
      { numRuns: RUNS },
    );
  });

  it('accounts parameters exactly: each removed channel takes its weight column, bias, affine entries and consumer row', () => {
    fc.assert(
      fc.property(net, (spec) => {
        const g = prepare(spec);
        const D = spec.width;
        const perChannel = (b: BlockSpec): number => (b.kind === 'gated' ? 3 * D : b.kind === 'affine' ? 2 * D + 3 : 2 * D + 1);
        const expected = spec.blocks.reduce((n, b) => n + expectedLoss(b).channels * perChannel(b), 0);
        expect(parameters(g) - parameters(prune(g))).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('is idempotent, and pruning an unplanted network is the identity', () => {
    fc.assert(
      fc.property(net, (spec) => {
        const once = prune(prepare(spec));
        expect(parameters(prune(once))).toBe(parameters(once));
        const clean = prepare({ ...spec, blocks: spec.blocks.map((b) => ({ ...b, zero: [] })) });
        expect(parameters(prune(clean))).toBe(parameters(clean));
      }),
      { numRuns: RUNS },
    );
  });

  it('groups partition the sliced constant axes; the residual stems share one group; the head is barred as a graph output', () => {
    fc.assert(
      fc.property(net, (spec) => {
        const g = prepare(spec);
        const { spaces, channels } = channelFlow(g);
        const seen = new Map<string, number>();
        for (const r of spaces.roots())
          for (const s of spaces.get(r).slices) {
            const key = `${s.constant}@${s.axis}`;
            expect(seen.get(key) ?? r).toBe(r);
            seen.set(key, r);
          }
        const roots = spaces.roots().map((r) => spaces.get(r));
        // The residual stream: every block's output projection and the first stem, tied by the Adds, in one group.
        const head = g.nodes.find((n) => n.outputs[0] === 'logits')!;
        const stream = spaces.get(channels.get(head.inputs[0]!)!.space);
        expect(stream.producers.length).toBe(1 + spec.blocks.length);
        expect(stream.barriers).toEqual([]);
        expect(roots.some((s) => s.barriers.some((b) => b.includes('graph output')))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('is monotone: planting a subset of the zeros removes a subset of the channels', () => {
    fc.assert(
      fc.property(net, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (spec, split) => {
        const firstHalf = spec.blocks.map((b, i) => ({ ...b, zero: split[i] ? b.zero : [] }));
        const together = prune(prepare(spec));
        const stepwise = prune(prepare({ ...spec, blocks: firstHalf }));
        expect(channelCount(stepwise)).toBeGreaterThanOrEqual(channelCount(together));
        expect(channelCount(prune(together))).toBe(channelCount(together));
      }),
      { numRuns: RUNS },
    );
  });
});

/** Total output channels of all stems (MatMul weight columns). */
function channelCount(g: Graph): number {
  const mats = g.nodes.filter((n) => n.op === 'MatMul').map((n) => g.types.get(n.inputs[1]!)!.shape[1] as number);
  return mats.reduce((a, b) => a + b, 0);
}
