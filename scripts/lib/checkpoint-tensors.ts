// The tensor list of a random checkpoint: every tensor a Hugging Face llama / gpt2 / bert checkpoint of a given
// config.json holds, in the order Hugging Face saves them, each with the distribution its values are drawn from.
//
// Initialisation is chosen so that the forward pass is not degenerate (logits with a spread of about one, so
// greedy tokens are well separated and a wrong weight shows): linear weights ~ N(0, 1/fan_in) (for GPT-2 size
// that is ~N(0, 0.02-0.036), like real inits), embeddings ~ N(0, 1/hidden) (tied heads then give unit logits),
// norm weights ~ 1 + N(0, 0.1) and biases ~ N(0, 0.1), so that a norm or a bias taken from the wrong place
// changes the result measurably.
import { HF_MODEL_TYPES } from '../../ir/import/hf/index.js';
import { type CheckpointFamily, type Preset, presetConfig } from './checkpoint-presets.js';

/** A tensor of the checkpoint with how its values are drawn: N(mean, std^2). */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly mean: number;
  readonly std: number;
  /** Planted zeros: these indices along `axis` are written as 0 (pruning tests plant zero heads and channels). */
  readonly zero?: { readonly axis: number; readonly indices: readonly number[] };
}

const weight = (name: string, shape: readonly number[], fanIn: number): TensorSpec => ({ name, shape, mean: 0, std: 1 / Math.sqrt(fanIn) });
const bias = (name: string, size: number): TensorSpec => ({ name, shape: [size], mean: 0, std: 0.1 });
const normWeight = (name: string, size: number): TensorSpec => ({ name, shape: [size], mean: 1, std: 0.1 });

/** nn.Linear(in, out): weight [out, in], bias [out] when `withBias`. */
const linear = (name: string, out: number, inFeatures: number, withBias: boolean): TensorSpec[] => [
  weight(`${name}.weight`, [out, inFeatures], inFeatures),
  ...(withBias ? [bias(`${name}.bias`, out)] : []),
];

/**
 * Every tensor a checkpoint of this config.json holds, in the order Hugging Face saves them. The config keys
 * are read here directly, with transformers' defaults, not through the importer's parser: the checkpoints test
 * the importer, so they must not inherit its mistakes.
 */
export function checkpointTensors(family: CheckpointFamily, config: Readonly<Record<string, unknown>>): TensorSpec[] {
  const key = (name: string, fallback?: number): number => {
    const v = config[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`checkpoint config: '${name}' must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (family) {
    case 'llama': {
      const hidden = key('hidden_size');
      const heads = key('num_attention_heads');
      const qwen2 = config.model_type === 'qwen2';
      return llamaTensors({
        hidden,
        heads,
        kvHeads: key('num_key_value_heads', heads),
        headDim: key('head_dim', hidden / heads),
        intermediate: key('intermediate_size'),
        layers: key('num_hidden_layers'),
        vocab: key('vocab_size'),
        tied: config.tie_word_embeddings === true,
        // LlamaAttention puts attention_bias on q, k, v and o; Qwen2Attention always biases q, k, v and never o.
        qkvBias: qwen2 || config.attention_bias === true,
        oBias: !qwen2 && config.attention_bias === true,
        mlpBias: config.mlp_bias === true,
      });
    }
    case 'gpt2': {
      const hidden = key('n_embd');
      return gpt2Tensors({ hidden, inner: key('n_inner', 4 * hidden), layers: key('n_layer'), positions: key('n_positions'), vocab: key('vocab_size') });
    }
    case 'bert':
      return bertTensors({
        hidden: key('hidden_size'),
        intermediate: key('intermediate_size'),
        layers: key('num_hidden_layers'),
        positions: key('max_position_embeddings'),
        types: key('type_vocab_size', 2),
        vocab: key('vocab_size'),
      });
  }
}

interface LlamaShapes {
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly vocab: number;
  readonly tied: boolean;
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
}

function llamaTensors(c: LlamaShapes): TensorSpec[] {
  const h = c.hidden;
  const out: TensorSpec[] = [weight('model.embed_tokens.weight', [c.vocab, h], h)];
  for (let l = 0; l < c.layers; l++) {
    const p = `model.layers.${l}`;
    out.push(
      normWeight(`${p}.input_layernorm.weight`, h),
      ...linear(`${p}.self_attn.q_proj`, c.heads * c.headDim, h, c.qkvBias),
      ...linear(`${p}.self_attn.k_proj`, c.kvHeads * c.headDim, h, c.qkvBias),
      ...linear(`${p}.self_attn.v_proj`, c.kvHeads * c.headDim, h, c.qkvBias),
      ...linear(`${p}.self_attn.o_proj`, h, c.heads * c.headDim, c.oBias),
      normWeight(`${p}.post_attention_layernorm.weight`, h),
      ...linear(`${p}.mlp.gate_proj`, c.intermediate, h, c.mlpBias),
      ...linear(`${p}.mlp.up_proj`, c.intermediate, h, c.mlpBias),
      ...linear(`${p}.mlp.down_proj`, h, c.intermediate, c.mlpBias),
    );
  }
  out.push(normWeight('model.norm.weight', h));
  if (!c.tied) out.push(weight('lm_head.weight', [c.vocab, h], h));
  return out;
}

interface Gpt2Shapes {
  readonly hidden: number;
  readonly inner: number;
  readonly layers: number;
  readonly positions: number;
  readonly vocab: number;
}

function gpt2Tensors(c: Gpt2Shapes): TensorSpec[] {
  const h = c.hidden;
  /** GPT-2's Conv1D(in -> out): weight [in, out], bias [out]. */
  const conv1d = (name: string, inFeatures: number, out: number): TensorSpec[] => [weight(`${name}.weight`, [inFeatures, out], inFeatures), bias(`${name}.bias`, out)];
  const layerNorm = (name: string): TensorSpec[] => [normWeight(`${name}.weight`, h), bias(`${name}.bias`, h)];
  const out: TensorSpec[] = [weight('wte.weight', [c.vocab, h], h), weight('wpe.weight', [c.positions, h], h)];
  for (let l = 0; l < c.layers; l++) {
    const p = `h.${l}`;
    out.push(
      ...layerNorm(`${p}.ln_1`),
      ...conv1d(`${p}.attn.c_attn`, h, 3 * h),
      ...conv1d(`${p}.attn.c_proj`, h, h),
      ...layerNorm(`${p}.ln_2`),
      ...conv1d(`${p}.mlp.c_fc`, h, c.inner),
      ...conv1d(`${p}.mlp.c_proj`, c.inner, h),
    );
  }
  out.push(...layerNorm('ln_f'));
  return out;
}

interface BertShapes {
  readonly hidden: number;
  readonly intermediate: number;
  readonly layers: number;
  readonly positions: number;
  readonly types: number;
  readonly vocab: number;
}

function bertTensors(c: BertShapes): TensorSpec[] {
  const h = c.hidden;
  const layerNorm = (name: string): TensorSpec[] => [normWeight(`${name}.weight`, h), bias(`${name}.bias`, h)];
  const out: TensorSpec[] = [
    weight('embeddings.word_embeddings.weight', [c.vocab, h], h),
    weight('embeddings.position_embeddings.weight', [c.positions, h], h),
    weight('embeddings.token_type_embeddings.weight', [c.types, h], h),
    ...layerNorm('embeddings.LayerNorm'),
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}`;
    out.push(
      ...linear(`${p}.attention.self.query`, h, h, true),
      ...linear(`${p}.attention.self.key`, h, h, true),
      ...linear(`${p}.attention.self.value`, h, h, true),
      ...linear(`${p}.attention.output.dense`, h, h, true),
      ...layerNorm(`${p}.attention.output.LayerNorm`),
      ...linear(`${p}.intermediate.dense`, c.intermediate, h, true),
      ...linear(`${p}.output.dense`, h, c.intermediate, true),
      ...layerNorm(`${p}.output.LayerNorm`),
    );
  }
  out.push(...linear('pooler.dense', h, h, true));
  return out;
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function parameterCount(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((sum, t) => sum + elementCount(t.shape), 0);
}

/** A preset's tensors (its config.json read as transformers would). */
export function presetTensors(family: CheckpointFamily, preset: Preset): TensorSpec[] {
  const json = presetConfig(family, preset);
  const modelType = String(json.model_type);
  if (HF_MODEL_TYPES[modelType] !== family) throw new Error(`preset overrides set model_type '${modelType}', which is not a ${family} model`);
  return checkpointTensors(family, json);
}
