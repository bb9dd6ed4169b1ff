// Attention heads as exporters write them (PyTorch, tf2onnx): per-head reshapes and transposes, q.k^T and p.v as
// MatMuls batched over the heads, a Softmax over the keys, a mask Expand-ed over the heads. A head whose value rows
// are zero outputs zero whatever q and k hold: exact pruning removes it from q, k, v, the mask and the output
// projection, and the interpreter's outputs stay bit-identical.
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType, tensorsIdentical } from '../../ir/index.js';
import { channelFlow, configure, inferShapes, pruneStructured, runPipeline } from '../../passes/index.js';

const [S, D, H, Dh] = [5, 6, 3, 4];

function attention(zeroHead?: number): Graph {
  const b = new GraphBuilder('attn');
  const x = b.input('x', tensorType('f32', [S, D]));
  const mask = b.input('mask', tensorType('bool', [1, 1, S]));
  let seed = 7;
  const rand = (n: number, zeroCols: (c: number) => boolean = () => false) =>
    Array.from({ length: n }, (_, i) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return zeroCols(i % (H * Dh)) ? 0 : (seed / 2 ** 32 - 0.5) * 2;
    });
  const proj = (name: string, zero?: (c: number) => boolean) => b.op('MatMul', [x, b.constant(makeTensor('f32', [D, H * Dh], rand(D * H * Dh, zero)), name)]);
  const heads = (t: string, perm: number[]) => b.op('Transpose', [b.op('Reshape', [t], { shape: [S, H, Dh] })], { perm });
  const q = heads(proj('wq'), [1, 0, 2]);
  const kT = heads(proj('wk'), [1, 2, 0]);
  const v = heads(proj('wv', zeroHead === undefined ? undefined : (c) => Math.floor(c / Dh) === zeroHead), [1, 0, 2]);
  const scores = b.op('Div', [b.op('MatMul', [q, kT]), b.constant(makeTensor('f32', [], [2]))]);
  const masked = b.op('Where', [b.op('Expand', [mask], { shape: [H, S, S] }), scores, b.constant(makeTensor('f32', [], [-1e4]))]);
  const ctx = b.op('MatMul', [b.op('Softmax', [masked], { axis: -1 }), v]);
  const merged = b.op('Reshape', [b.op('Transpose', [ctx], { perm: [1, 0, 2] })], { shape: [S, H * Dh] });
  b.output(b.op('MatMul', [merged, b.constant(makeTensor('f32', [H * Dh, D], rand(H * Dh * D)), 'wo')], {}, { names: ['y'] }));
  return runPipeline(b.build(), [inferShapes]).graph;
}

const inputs = { x: makeTensor('f32', [S, D], (i) => Math.sin(i * 0.7)), mask: makeTensor('bool', [1, 1, S], (i) => (i < 4 ? 1 : 0)) };
const shape = (g: Graph, n: string) => g.constants.find((c) => c.name === n)!.type.shape;

describe('attention heads in exported subgraphs', () => {
  it('are one group of heads: q, k and v projections, the output projection\'s columns', () => {
    const flow = channelFlow(attention());
    const root = flow.spaces.get(flow.channels.get(attention().nodes[0]!.outputs[0]!)!.space);
    expect(root.size).toBe(H);
    expect(root.heads).toBe(true);
    expect(root.barriers).toEqual([]);
    expect(root.slices.map((s) => `${s.constant}@${s.axis}x${s.unit}`).sort()).toEqual(['wk@1x4', 'wo@0x4', 'wq@1x4', 'wv@1x4']);
  });

  it('lose a head whose value rows are zero, bit for bit', () => {
    const g = attention(1);
    const p = runPipeline(g, [configure(pruneStructured)]).graph;
    for (const w of ['wq', 'wk', 'wv']) expect(shape(p, w)).toEqual([D, (H - 1) * Dh]);
    expect(shape(p, 'wo')).toEqual([(H - 1) * Dh, D]);
    expect(tensorsIdentical(interpret(p, inputs).y!, interpret(g, inputs).y!)).toBe(true);
  });

  it('at a ratio lose whole heads, the mask broadcast shrinking with them', () => {
    const p = runPipeline(attention(), [configure(pruneStructured, { ratio: 0.5 })]).graph;
    expect(shape(p, 'wq')).toEqual([D, 2 * Dh]);
    expect(p.nodes.find((n) => n.op === 'Expand')!.attrs.shape).toEqual([2, S, S]);
    expect(interpret(p, inputs).y!.shape).toEqual([S, D]);
  });
});
