// GPT-2 (transformers' GPT2LMHeadModel): learned absolute positions, LayerNorm pre-norm blocks, one fused qkv
// projection, tanh-approximated GELU, output projection tied to the token embedding. Its Conv1D layers store
// weights as [in, out], so their Gemms take the weight as is (no transB).
import type { Gpt2Config } from './config.js';
import { geluTanh, layerNorm, linear, mergeHeads, splitHeads } from './common.js';
import type { DecoderArchitecture, DecoderStep } from './decoder.js';
import { quantLinear } from './quant.js';
import type { Checkpoint } from '../safetensors/index.js';

/** GPT2LMHeadModel checkpoints prefix the body with 'transformer.'; GPT2Model checkpoints do not. */
export function gpt2Prefix(checkpoint: Checkpoint): string {
  return checkpoint.tensors.has('transformer.wte.weight') ? 'transformer.' : '';
}

export function gpt2Architecture(cfg: Gpt2Config): DecoderArchitecture {
  const { hiddenSize: hidden, innerSize: inner, heads, headDim, vocabSize, maxPositions, layerNormEps: eps } = cfg;

  const norm = (s: DecoderStep, x: string, name: string): string =>
    layerNorm(s.b, x, s.weights.constant(s.b, `${name}.weight`, [hidden]), s.weights.constant(s.b, `${name}.bias`, [hidden]), eps);

  /** Conv1D(in -> out) named `name`: weight [in, out], bias [out]. */
  const conv1d = (s: DecoderStep, x: string, name: string, inFeatures: number, out: number): string => {
    const b = s.weights.constant(s.b, `${name}.bias`, [out]);
    return quantLinear(s.weights, s.b, x, name, out, inFeatures, b) ?? linear(s.b, x, s.weights.constant(s.b, `${name}.weight`, [inFeatures, out]), b, false);
  };

  return {
    embed(s) {
      const { b } = s;
      const tokens = b.op('Gather', [s.weights.constant(b, 'wte.weight', [vocabSize, hidden]), s.ids], { axis: 0 });
      // Padding rows of a short last chunk sit past pos + len and may run off the end of the position table;
      // clamping keeps their (unused) lookups in range, and valid rows are never clamped because pos + len <= S.
      const positions = b.op('Clip', [b.op('Positions', [s.pos], { count: s.rows })], { min: 0, max: maxPositions - 1 });
      const learned = b.op('Gather', [s.weights.constant(b, 'wpe.weight', [maxPositions, hidden]), positions], { axis: 0 });
      return b.op('Add', [tokens, learned]);
    },

    block(s, l, x) {
      const p = `h.${l}`;
      const { b } = s;
      const qkv = conv1d(s, norm(s, x, `${p}.ln_1`), `${p}.attn.c_attn`, hidden, 3 * hidden);
      const [q, k, v] = b.node('Split', [qkv], { axis: 1, num_outputs: 3 }).map((t) => splitHeads(b, t, heads, headDim));
      const attn = conv1d(s, mergeHeads(b, s.attend(l, q!, k!, v!)), `${p}.attn.c_proj`, hidden, hidden);
      const x1 = b.op('Add', [x, attn]);
      const up = geluTanh(b, conv1d(s, norm(s, x1, `${p}.ln_2`), `${p}.mlp.c_fc`, hidden, inner));
      return b.op('Add', [x1, conv1d(s, up, `${p}.mlp.c_proj`, inner, hidden)]);
    },

    head(s, lastRow) {
      // GPT-2 ties the output projection to wte ([vocab, hidden], nn.Linear layout), hence transB here.
      return linear(s.b, norm(s, lastRow, 'ln_f'), s.weights.constant(s.b, 'wte.weight', [vocabSize, hidden]), undefined, true);
    },
  };
}
