// Llama-style decoders (llama, mistral, qwen2): RMSNorm pre-norm blocks, rotary q/k, grouped-query attention
// over the KV cache, SwiGLU MLP, optionally tied embeddings. Weight names and math follow transformers'
// LlamaForCausalLM (modeling_llama.py); mistral and qwen2 differ only in config (window, biases).
import type { LlamaConfig } from './config.js';
import { linear, mergeHeads, rmsNorm, silu, splitHeads } from './common.js';
import type { DecoderArchitecture, DecoderStep } from './decoder.js';
import { quantLinear } from './quant.js';
import type { Weights } from './weights.js';

const EMBED = 'model.embed_tokens.weight';
const LM_HEAD = 'lm_head.weight';

/** The weight the output projection uses: lm_head, or the embedding when tied or when lm_head is absent. */
export function llamaHeadWeight(cfg: LlamaConfig, weights: Weights, notes: string[]): string {
  if (cfg.tieWordEmbeddings) return EMBED;
  if (weights.has(LM_HEAD)) return LM_HEAD;
  notes.push(`${LM_HEAD} is absent though tie_word_embeddings is false; using ${EMBED} as the output projection`);
  return EMBED;
}

export function llamaArchitecture(cfg: LlamaConfig, headWeight: string): DecoderArchitecture {
  const { hiddenSize: hidden, intermediateSize: inner, heads, kvHeads, headDim, vocabSize, rmsNormEps: eps } = cfg;

  const norm = (s: DecoderStep, x: string, name: string): string => rmsNorm(s.b, x, s.weights.constant(s.b, name, [hidden]), eps);

  /** nn.Linear(in, out) named `name` (weight [out, in]), with its bias when `bias`. */
  const proj = (s: DecoderStep, x: string, name: string, out: number, inFeatures: number, bias: boolean): string => {
    const b = bias ? s.weights.constant(s.b, `${name}.bias`, [out]) : undefined;
    return quantLinear(s.weights, s.b, x, name, out, inFeatures, b) ?? linear(s.b, x, s.weights.constant(s.b, `${name}.weight`, [out, inFeatures]), b, true);
  };

  return {
    embed(s) {
      return s.b.op('Gather', [s.weights.constant(s.b, EMBED, [vocabSize, hidden]), s.ids], { axis: 0 });
    },

    block(s, l, x) {
      const p = `model.layers.${l}`;
      const { b } = s;
      const h = norm(s, x, `${p}.input_layernorm.weight`);
      const rotate = (t: string): string => b.op('Rope', [t, s.pos], { theta: cfg.ropeTheta });
      const q = rotate(splitHeads(b, proj(s, h, `${p}.self_attn.q_proj`, heads * headDim, hidden, cfg.qkvBias), heads, headDim));
      const k = rotate(splitHeads(b, proj(s, h, `${p}.self_attn.k_proj`, kvHeads * headDim, hidden, cfg.qkvBias), kvHeads, headDim));
      const v = splitHeads(b, proj(s, h, `${p}.self_attn.v_proj`, kvHeads * headDim, hidden, cfg.qkvBias), kvHeads, headDim);
      const attn = proj(s, mergeHeads(b, s.attend(l, q, k, v)), `${p}.self_attn.o_proj`, hidden, heads * headDim, cfg.oBias);
      const x1 = b.op('Add', [x, attn]);

      const h2 = norm(s, x1, `${p}.post_attention_layernorm.weight`);
      const gate = silu(b, proj(s, h2, `${p}.mlp.gate_proj`, inner, hidden, cfg.mlpBias));
      const up = proj(s, h2, `${p}.mlp.up_proj`, inner, hidden, cfg.mlpBias);
      const down = proj(s, b.op('Mul', [gate, up]), `${p}.mlp.down_proj`, hidden, inner, cfg.mlpBias);
      return b.op('Add', [x1, down]);
    },

    head(s, lastRow) {
      const n = norm(s, lastRow, 'model.norm.weight');
      return linear(s.b, n, s.weights.constant(s.b, headWeight, [vocabSize, hidden]), undefined, true);
    },
  };
}
