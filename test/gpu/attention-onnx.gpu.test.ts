// ONNX Attention (23/24, 28's sliding window) and the other transformer ops (RMSNormalization, RotaryEmbedding,
// CausalConvWithState, LinearAttention's kernel, SwiGLU) imported from hand-built models, compiled and run on the
// adapter against the interpreter on random inputs with ragged sizes (head sizes 12 and 10, 5 queries over 3 past
// + 4 new keys, 6 query heads on 2 kv heads; LinearAttention with dk 5, dv 7 over 9 steps).
import { describe, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/index.js';
import { DT, attrFloat, attrInt, attrString, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

type Obj = Record<string, unknown>;
const ONNX_TYPE: Record<string, number> = { f32: DT.FLOAT, f16: DT.FLOAT16, bool: DT.BOOL, i32: DT.INT64 };
const TOL = { rtol: 1e-4, atol: 1e-5 };

const values = (shape: number[], seed: number, range = 2): Tensor => randomTensor('f32', shape, seed, { edges: 0, range });

/** Import one node over named inputs ('' for an omitted one) and check every output on the GPU. */
async function check(op: string, opset: number, inputs: [string, Tensor | undefined][], outputs: string[], attrs: Record<string, Obj> = {}, tol = TOL): Promise<void> {
  const given = inputs.filter((e): e is [string, Tensor] => e[1] !== undefined);
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node(op, inputs.map(([n, t]) => (t ? n : '')), outputs, attrs)],
      inputs: given.map(([n, t]) => valueInfo(n, ONNX_TYPE[t.dtype]!, t.shape)),
      outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
    }),
  );
  await expectGpuMatchesInterpreter(importOnnx(bytes).graph, Object.fromEntries(given), tol);
}

const attention = (opset: number, t: Partial<Record<'Q' | 'K' | 'V' | 'attn_mask' | 'past_key' | 'past_value' | 'nonpad_kv_seqlen', Tensor>>, outputs: number, attrs: Record<string, Obj> = {}) =>
  check(
    'Attention',
    opset,
    (['Q', 'K', 'V', 'attn_mask', 'past_key', 'past_value', 'nonpad_kv_seqlen'] as const).map((n) => [n, t[n]]),
    ['Y', 'present_key', 'present_value', 'qk_matmul_output'].slice(0, outputs),
    attrs,
  );

describe('ONNX Attention on the adapter', () => {
  it('4-D grouped-query heads with past, a float mask, causal, softcap and the qk output', async () => {
    const t = { Q: values([2, 6, 5, 12], 1), K: values([2, 2, 4, 12], 2), V: values([2, 2, 4, 10], 3), past_key: values([2, 2, 3, 12], 4), past_value: values([2, 2, 3, 10], 5) };
    await attention(23, { ...t, attn_mask: values([2, 1, 5, 7], 6) }, 4, { is_causal: attrInt(1), softcap: attrFloat(1.5), qk_matmul_output_mode: attrInt(2) });
    await attention(24, t, 3, { scale: attrFloat(0.2), qk_matmul_output_mode: attrInt(3) });
    await attention(28, t, 1, { is_causal: attrInt(1), left_window_size: attrInt(3) });
  });

  it('3-D inputs with a bool mask shorter than the keys (rows fully masked give zeros)', async () => {
    const mask = makeTensor('bool', [5, 6], (i) => (i < 6 ? 0 : (i * 7) % 3 ? 1 : 0));
    await attention(23, { Q: values([2, 5, 6 * 12], 7), K: values([2, 7, 2 * 12], 8), V: values([2, 7, 2 * 10], 9), attn_mask: mask }, 1, { q_num_heads: attrInt(6), kv_num_heads: attrInt(2) });
  });

  it('opset 24 nonpad_kv_seqlen with a causal offset per batch (decode and prefill rows)', async () => {
    const nonpad = makeTensor('i32', [3], [7, 4, 1]);
    await attention(24, { Q: values([3, 4, 1, 12], 10), K: values([3, 2, 7, 12], 11), V: values([3, 2, 7, 12], 12), nonpad_kv_seqlen: nonpad }, 1, { is_causal: attrInt(1) });
    await attention(24, { Q: values([3, 4, 3, 12], 13), K: values([3, 2, 7, 12], 14), V: values([3, 2, 7, 12], 15), nonpad_kv_seqlen: nonpad }, 1, { is_causal: attrInt(1) });
  });

  it('f16 inputs (computed in f32, rounded once)', async () => {
    const h = (shape: number[], seed: number): Tensor => randomTensor('f16', shape, seed, { edges: 0, range: 2 });
    await attention(23, { Q: h([1, 4, 5, 12], 16), K: h([1, 2, 7, 12], 17), V: h([1, 2, 7, 12], 18) }, 1);
  });
});

describe('ONNX transformer ops on the adapter', () => {
  it('RMSNormalization over the last two axes', async () => {
    await check('RMSNormalization', 23, [['X', values([3, 5, 13], 20, 8)], ['W', values([5, 13], 21)]], ['Y'], { axis: attrInt(1), epsilon: attrFloat(1e-3) });
  });

  it('RotaryEmbedding, halves and interleaved, partial rotary dim, gathered by position_ids', async () => {
    const positions = makeTensor('i32', [2, 5], [0, 1, 2, 3, 4, 17, 3, 9, 0, 11]);
    for (const interleaved of [0, 1])
      await check('RotaryEmbedding', 23, [['input', values([2, 3, 5, 10], 22)], ['cos_cache', values([20, 4], 23)], ['sin_cache', values([20, 4], 24)], ['position_ids', positions]], ['output'], {
        interleaved: attrInt(interleaved),
        rotary_embedding_dim: attrInt(6),
      });
  });

  it('CausalConvWithState with past state, bias and SiLU; present state', async () => {
    const io: [string, Tensor | undefined][] = [['input', values([2, 5, 9], 25)], ['weight', values([5, 1, 4], 26)], ['bias', values([5], 27)], ['past_state', values([2, 5, 3], 28)]];
    await check('CausalConvWithState', 27, io, ['output', 'present_state'], { activation: attrString('silu') });
  });

  it('LinearAttention: every update rule, grouped heads, ragged head sizes, past state, f16', async () => {
    const [B, T, hq, hkv, dk, dv] = [2, 9, 6, 2, 5, 7];
    const attrs = (rule: string): Record<string, Obj> => ({ q_num_heads: attrInt(hq), kv_num_heads: attrInt(hkv), update_rule: attrString(rule) });
    const logDecay = (w: number): Tensor => makeTensor('f32', [B, T, w], (i) => -((i * 0.37) % 1));
    const qkv = (dtype: 'f32' | 'f16', seed: number): [string, Tensor][] => [
      ['query', randomTensor(dtype, [B, T, hq * dk], seed, { edges: 0, range: 1 })],
      ['key', randomTensor(dtype, [B, T, hkv * dk], seed + 1, { edges: 0, range: 1 })],
      ['value', randomTensor(dtype, [B, T, hkv * dv], seed + 2, { edges: 0, range: 1 })],
    ];
    const past = values([B, hkv, dk, dv], 31);
    const beta = makeTensor('f32', [B, T, hkv], (i) => ((i * 0.61) % 1));
    const outs = ['output', 'present_state'];
    await check('LinearAttention', 27, [...qkv('f32', 32), ['past_state', past], ['decay', logDecay(hkv * dk)], ['beta', beta]], outs, attrs('gated_delta'));
    await check('LinearAttention', 27, [...qkv('f32', 35), ['past_state', undefined], ['decay', logDecay(hkv)]], outs, attrs('gated'));
    await check('LinearAttention', 27, [...qkv('f32', 38), ['past_state', past], ['decay', undefined], ['beta', makeTensor('f32', [B, T, 1], (i) => 0.3 + (i % 3) * 0.2)]], outs, attrs('delta'));
    await check('LinearAttention', 27, qkv('f32', 41), outs, attrs('linear'));
    await check('LinearAttention', 27, qkv('f16', 44), outs, attrs('linear'), { rtol: 2e-3, atol: 1e-3 });
  });

  it('SwiGLU with alpha', async () => {
    await check('SwiGLU', 28, [['a', values([3, 37], 29, 6)], ['b', values([3, 37], 30, 6)]], ['y'], { alpha: attrFloat(1.702) });
  });
});
