// The config.json presets of the random checkpoints (scripts/lib/checkpoints.ts): per family a 'tiny' preset for
// tests, plus real-sized shapes (GPT-2 124M, a 500M Llama) for benchmarks; a preset may also be an object of
// config.json keys laid over the family's 'tiny' one.
import { TINY_TOKENIZER_SPECIAL_TOKENS } from './tiny-tokenizer.js';

export type CheckpointFamily = 'llama' | 'gpt2' | 'bert';
export type PresetName = 'tiny' | 'tiny-tied' | 'small' | 'gpt2-124m' | 'llama-500m';
/** A named preset, or config.json keys laid over the family's 'tiny' preset. */
export type Preset = PresetName | Readonly<Record<string, unknown>>;

export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'tiny-tied', 'small', 'gpt2-124m', 'llama-500m'];

const { bos, eos } = TINY_TOKENIZER_SPECIAL_TOKENS;

/** The tiny presets: llama 24,736 parameters (tiny-tied 21,664), gpt2 30,592, bert 23,392. */
const TINY: Readonly<Record<CheckpointFamily, Readonly<Record<string, unknown>>>> = {
  // GQA (4 query heads share 2 kv heads), head_dim given explicitly, untied head.
  llama: {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    hidden_act: 'silu',
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    vocab_size: 96,
    max_position_embeddings: 128,
    tie_word_embeddings: false,
    bos_token_id: bos.id,
    eos_token_id: eos.id,
    torch_dtype: 'float32',
  },
  gpt2: {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    n_embd: 32,
    n_layer: 2,
    n_head: 4,
    n_inner: null,
    n_positions: 64,
    vocab_size: 96,
    layer_norm_epsilon: 1e-5,
    activation_function: 'gelu_new',
    bos_token_id: bos.id,
    eos_token_id: eos.id,
    torch_dtype: 'float32',
  },
  bert: {
    model_type: 'bert',
    architectures: ['BertModel'],
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 64,
    type_vocab_size: 2,
    vocab_size: 96,
    layer_norm_eps: 1e-12,
    hidden_act: 'gelu',
    position_embedding_type: 'absolute',
    pad_token_id: 0,
    torch_dtype: 'float32',
  },
};

/** The shapes of openai-community/gpt2: 124,439,808 parameters (wte tied to the head). */
const GPT2_124M: Readonly<Record<string, unknown>> = {
  ...TINY.gpt2,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_positions: 1024,
  n_ctx: 1024,
  vocab_size: 50257,
  bos_token_id: 50256,
  eos_token_id: 50256,
};

/**
 * A Llama-shaped model of 501,007,872 parameters (2,004,031,488 bytes in F32): vocab 32000 (untied: 2 x
 * 49,152,000), 16 layers of 25,168,896 (attention 6,291,456 with GQA 24 heads / 8 kv heads of 64; SwiGLU MLP
 * 3 x 1536 x 4096 = 18,874,368; two norms 3,072), final norm 1,536.
 */
const LLAMA_500M: Readonly<Record<string, unknown>> = {
  ...TINY.llama,
  hidden_size: 1536,
  intermediate_size: 4096,
  num_hidden_layers: 16,
  num_attention_heads: 24,
  num_key_value_heads: 8,
  head_dim: 64,
  vocab_size: 32000,
  max_position_embeddings: 2048,
};

/**
 * A llama big enough for the sparse kernels (every projection has >= 4096 weights) and still quick on a software
 * adapter: hidden 128, SwiGLU 384, 2 layers, 4 heads of 32 (2 kv heads), the tiny tokenizer's vocabulary.
 * 493,824 parameters. The main example (examples/run-example.sh) compiles it with --sparsity 0.8.
 */
const LLAMA_SMALL: Readonly<Record<string, unknown>> = {
  ...TINY.llama,
  hidden_size: 128,
  intermediate_size: 384,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  max_position_embeddings: 128,
};

/** The config.json object of a family's preset. */
export function presetConfig(family: CheckpointFamily, preset: Preset): Record<string, unknown> {
  if (typeof preset === 'object') return { ...TINY[family], ...preset };
  const only = (wanted: CheckpointFamily, config: Readonly<Record<string, unknown>>): Record<string, unknown> => {
    if (family !== wanted) throw new Error(`preset '${preset}' is a ${wanted} preset, not ${family}`);
    return { ...config };
  };
  switch (preset) {
    case 'tiny':
      return { ...TINY[family] };
    case 'tiny-tied':
      return only('llama', { ...TINY.llama, tie_word_embeddings: true });
    case 'small':
      return only('llama', LLAMA_SMALL);
    case 'gpt2-124m':
      return only('gpt2', GPT2_124M);
    case 'llama-500m':
      return only('llama', LLAMA_500M);
    default:
      throw new Error(`unknown preset '${String(preset)}' (presets: ${PRESET_NAMES.join(', ')}, or an object of config keys)`);
  }
}
