// A PyTorch-style transformer block exported with dynamic axes {0: batch, 1: sequence}: position ids from
// `torch.arange(ids.size(1))` (Shape -> Gather -> Range), heads split and merged through Shape -> Slice -> Concat ->
// Reshape chains, a padding mask turned into an additive bias, LayerNormalization, an erf GELU MLP. Compiled once
// with batch 1..4 and sequence 1..32, run at two sizes.
import { describe, expect, it } from 'vitest';
import { makeTensor } from '../../../ir/index.js';
import { DT, attrFloat, attrInt, attrInts, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../../scripts/lib/onnx-build.js';
import { expectRunsMatch, values } from './harness.js';

const [V, D, H, F, MAXS] = [50, 16, 2, 32, 32];
const dh = D / H;
const w = (name: string, shape: number[], seed: number) => f32Tensor(name, shape, Array.from(values(shape, seed).data));

function transformer(): Uint8Array {
  const heads = (x: string, out: string) => [
    node('Reshape', [x, 'heads_shape'], [`${out}_r`]),
    node('Transpose', [`${out}_r`], [out], { perm: attrInts([0, 2, 1, 3]) }),
  ];
  return encodeModel(
    model({
      opset: 17,
      nodes: [
        node('Gather', ['tok_emb', 'input_ids'], ['emb']),
        node('Shape', ['input_ids'], ['ids_shape']),
        node('Gather', ['ids_shape', 'one'], ['seq_len']),
        node('Range', ['zero', 'seq_len', 'one'], ['pos_ids']),
        node('Gather', ['pos_emb', 'pos_ids'], ['pemb']),
        node('Add', ['emb', 'pemb'], ['h0']),
        node('LayerNormalization', ['h0', 'ln1_g', 'ln1_b'], ['h'], { axis: attrInt(-1), epsilon: attrFloat(1e-5) }),
        // [batch, seq, H, dh] from the running shape: Concat(Shape(h)[0:2], [H, dh]).
        node('Shape', ['h'], ['h_shape']),
        node('Slice', ['h_shape', 'zero1', 'two1'], ['bs']),
        node('Concat', ['bs', 'hd'], ['heads_shape'], { axis: attrInt(0) }),
        node('MatMul', ['h', 'wq'], ['q0']),
        node('MatMul', ['h', 'wk'], ['k0']),
        node('MatMul', ['h', 'wv'], ['v0']),
        ...heads('q0', 'q'),
        ...heads('k0', 'k'),
        ...heads('v0', 'v'),
        node('Transpose', ['k'], ['kt'], { perm: attrInts([0, 1, 3, 2]) }),
        node('MatMul', ['q', 'kt'], ['s0']),
        node('Div', ['s0', 'sqrt_dh'], ['s1']),
        // mask [batch, seq] -> (1 - mask) * -1e4 as [batch, 1, 1, seq].
        node('Cast', ['attention_mask'], ['mask_f'], { to: attrInt(DT.FLOAT) }),
        node('Sub', ['onef', 'mask_f'], ['inv']),
        node('Mul', ['inv', 'neg_big'], ['bias0']),
        node('Unsqueeze', ['bias0', 'axes12'], ['bias']),
        node('Add', ['s1', 'bias'], ['s2']),
        node('Softmax', ['s2'], ['p'], { axis: attrInt(-1) }),
        node('MatMul', ['p', 'v'], ['ctx0']),
        node('Transpose', ['ctx0'], ['ctx1'], { perm: attrInts([0, 2, 1, 3]) }),
        node('Concat', ['bs', 'minus1'], ['merged_shape'], { axis: attrInt(0) }),
        node('Reshape', ['ctx1', 'merged_shape'], ['ctx']),
        node('MatMul', ['ctx', 'wo'], ['att']),
        node('Add', ['h', 'att'], ['r1']),
        node('MatMul', ['r1', 'w1'], ['f0']),
        node('Add', ['f0', 'b1'], ['f1']),
        // GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt(2))).
        node('Div', ['f1', 'sqrt2'], ['g0']),
        node('Erf', ['g0'], ['g1']),
        node('Add', ['g1', 'onef'], ['g2']),
        node('Mul', ['f1', 'g2'], ['g3']),
        node('Mul', ['g3', 'half'], ['g4']),
        node('MatMul', ['g4', 'w2'], ['f2']),
        node('Add', ['r1', 'f2'], ['hidden']),
        node('MatMul', ['hidden', 'head'], ['logits']),
      ],
      inputs: [valueInfo('input_ids', DT.INT64, ['batch', 'sequence']), valueInfo('attention_mask', DT.INT64, ['batch', 'sequence'])],
      outputs: [valueInfo('logits', DT.FLOAT, ['batch', 'sequence', 3])],
      initializers: [
        w('tok_emb', [V, D], 1),
        w('pos_emb', [MAXS, D], 2),
        w('ln1_g', [D], 3),
        w('ln1_b', [D], 4),
        w('wq', [D, D], 5),
        w('wk', [D, D], 6),
        w('wv', [D, D], 7),
        w('wo', [D, D], 8),
        w('w1', [D, F], 9),
        w('b1', [F], 10),
        w('w2', [F, D], 11),
        w('head', [D, 3], 12),
        i64Tensor('zero', [], [0]),
        i64Tensor('one', [], [1]),
        i64Tensor('zero1', [1], [0]),
        i64Tensor('two1', [1], [2]),
        i64Tensor('hd', [2], [H, dh]),
        i64Tensor('minus1', [1], [-1]),
        i64Tensor('axes12', [2], [1, 2]),
        f32Tensor('sqrt_dh', [], [Math.sqrt(dh)]),
        f32Tensor('onef', [], [1]),
        f32Tensor('neg_big', [], [-1e4]),
        f32Tensor('sqrt2', [], [Math.SQRT2]),
        f32Tensor('half', [], [0.5]),
      ],
    }),
  );
}

describe('a PyTorch-style transformer with dynamic axes on the adapter', () => {
  it('compiles once (batch 1..4, sequence 1..32) and runs 1 x 5 and 3 x 32', async () => {
    const cases = [
      [1, 5],
      [3, 32],
    ].map(([b, s], c) => ({
      input_ids: makeTensor('i32', [b!, s!], (i) => (i * 37 + c * 11 + 3) % V),
      attention_mask: makeTensor('i32', [b!, s!], (i) => (i % s! < s! - c ? 1 : 0)),
    }));
    const shapes = await expectRunsMatch(transformer(), { batch: { min: 1, max: 4 }, sequence: { min: 1, max: 32 } }, cases, { name: 'transformer' });
    expect(shapes).toEqual([[[1, 5, 3]], [[3, 32, 3]]]);
  }, 300_000);
});
