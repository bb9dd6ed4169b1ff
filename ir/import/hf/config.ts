// config.json of the supported Hugging Face families, parsed into the few numbers the graph builders need.
// Defaults are the ones the transformers config classes use, so a config that omits a key means what it means
// in transformers; anything that would change the math in a way kiln does not build (scaled rope, a sliding
// window, another activation) is rejected here by name instead of compiling into a quietly different model.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigReader } from './config-reader.js';
import { hfError } from './errors.js';
import { type HfQuantConfig, parseQuantConfig } from './quant.js';

export type HfFamily = 'llama' | 'gpt2' | 'bert';

/** model_type -> the family whose graph it uses. */
export const HF_MODEL_TYPES: Readonly<Record<string, HfFamily>> = {
  llama: 'llama',
  mistral: 'llama',
  qwen2: 'llama',
  gpt2: 'gpt2',
  bert: 'bert',
};

export interface LlamaConfig {
  readonly family: 'llama';
  readonly file: string;
  readonly modelType: string;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  /** Biases on the q, k, v projections (attention_bias, or always for qwen2) and on o (attention_bias only). */
  readonly qkvBias: boolean;
  readonly oBias: boolean;
  readonly mlpBias: boolean;
  /** The attention window when one applies (mistral, qwen2 with use_sliding_window); checked against maxSeq. */
  readonly slidingWindow?: number;
  readonly eosTokenId?: number;
}

export interface Gpt2Config {
  readonly family: 'gpt2';
  readonly file: string;
  readonly hiddenSize: number;
  readonly innerSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly layerNormEps: number;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly eosTokenId?: number;
}

export interface BertConfig {
  readonly family: 'bert';
  readonly file: string;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
  readonly layerNormEps: number;
  readonly vocabSize: number;
  readonly typeVocabSize: number;
  readonly maxPositions: number;
}

/** A pre-quantized checkpoint's quantization_config rides along with every family's numbers. */
export type HfConfig = (LlamaConfig | Gpt2Config | BertConfig) & { readonly quant?: HfQuantConfig };

/** The config.json a path names: the file itself, or config.json inside a folder. */
export function configFile(path: string): string {
  const abs = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    hfError(abs, 'no such file (expected a config.json or the folder holding one)');
  }
  return isDir ? join(abs, 'config.json') : abs;
}

export function readHfConfig(path: string): HfConfig {
  const file = configFile(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return hfError(file, `cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return hfError(file, `not valid JSON: ${(e as Error).message}`);
  }
  // AutoGPTQ's older checkpoints keep their quantization settings in quantize_config.json beside config.json.
  const side = join(dirname(file), 'quantize_config.json');
  if (json && typeof json === 'object' && !('quantization_config' in json) && existsSync(side)) {
    try {
      json = { ...json, quantization_config: { quant_method: 'gptq', ...(JSON.parse(readFileSync(side, 'utf8')) as object) } };
    } catch (e) {
      return hfError(side, `cannot read: ${(e as Error).message}`);
    }
  }
  return parseHfConfig(file, json);
}

/** Parse an already loaded config.json; `file` is only for messages. */
export function parseHfConfig(file: string, json: unknown): HfConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return hfError(file, 'expected a JSON object');
  const obj = json as Record<string, unknown>;
  const modelType = obj.model_type;
  const supported = Object.keys(HF_MODEL_TYPES).join(', ');
  if (typeof modelType !== 'string') return hfError(file, `missing key 'model_type' (supported: ${supported})`);
  // Own keys only: 'toString' or 'constructor' must not find Object.prototype's.
  const family = Object.hasOwn(HF_MODEL_TYPES, modelType) ? HF_MODEL_TYPES[modelType] : undefined;
  if (!family) return hfError(file, `unsupported model_type '${modelType}' (supported: ${supported})`);
  const r = new ConfigReader(file, obj, `a ${modelType} model`);
  const quant = parseQuantConfig(file, obj.quantization_config);
  const cfg = family === 'llama' ? parseLlama(r, modelType) : family === 'gpt2' ? parseGpt2(r) : parseBert(r);
  return quant ? { ...cfg, quant } : cfg;
}

/** hidden / heads, failing clearly when it does not divide. */
function evenHeadDim(r: ConfigReader, hidden: number, heads: number, hiddenKey: string, headsKey: string): number {
  if (hidden % heads !== 0) r.fail(`'${hiddenKey}' (${hidden}) is not a multiple of '${headsKey}' (${heads})`);
  return hidden / heads;
}

function parseLlama(r: ConfigReader, modelType: string): LlamaConfig {
  r.oneOf('hidden_act', ['silu'], 'silu');
  r.rejectPresent('rope_scaling', 'scaled rotary embeddings are not supported (kiln applies plain rope with rope_theta)');
  const hiddenSize = r.positiveInt('hidden_size');
  const heads = r.positiveInt('num_attention_heads');
  const kvHeads = r.positiveInt('num_key_value_heads', heads);
  if (heads % kvHeads !== 0) r.fail(`'num_attention_heads' (${heads}) is not a multiple of 'num_key_value_heads' (${kvHeads})`);
  const headDim = r.has('head_dim') ? r.positiveInt('head_dim') : evenHeadDim(r, hiddenSize, heads, 'hidden_size', 'num_attention_heads');
  if (headDim % 2 !== 0) r.fail(`'head_dim' (${headDim}) must be even for rotary embeddings`);
  // qwen2 always has q/k/v biases (and none on o); llama and mistral put them on all four when attention_bias.
  const attentionBias = r.bool('attention_bias', false);
  const qwen2 = modelType === 'qwen2';
  // qwen2 configs carry a sliding_window that only applies with use_sliding_window; mistral's applies when set.
  const windowed = qwen2 ? r.bool('use_sliding_window', false) : modelType === 'mistral';
  const slidingWindow = windowed ? r.optionalNonNegativeInt('sliding_window') : undefined;
  const eosTokenId = r.firstTokenId('eos_token_id');
  return {
    family: 'llama',
    file: r.file,
    modelType,
    hiddenSize,
    intermediateSize: r.positiveInt('intermediate_size'),
    layers: r.positiveInt('num_hidden_layers'),
    heads,
    kvHeads,
    headDim,
    rmsNormEps: r.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta: r.positiveNumber('rope_theta', 10000),
    vocabSize: r.positiveInt('vocab_size'),
    maxPositions: r.positiveInt('max_position_embeddings', 2048),
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
    qkvBias: qwen2 || attentionBias,
    oBias: !qwen2 && attentionBias,
    mlpBias: r.bool('mlp_bias', false),
    ...(slidingWindow !== undefined ? { slidingWindow } : {}),
    ...(eosTokenId !== undefined ? { eosTokenId } : {}),
  };
}

function parseGpt2(r: ConfigReader): Gpt2Config {
  // gelu_pytorch_tanh is the same tanh approximation as gelu_new, computed by a fused kernel in PyTorch.
  r.oneOf('activation_function', ['gelu_new', 'gelu_pytorch_tanh'], 'gelu_new');
  if (r.bool('scale_attn_by_inverse_layer_idx', false)) r.fail("unsupported: 'scale_attn_by_inverse_layer_idx' is true (kiln scales attention by 1/sqrt(head_dim) only)");
  if (!r.bool('scale_attn_weights', true)) r.fail("unsupported: 'scale_attn_weights' is false (kiln scales attention by 1/sqrt(head_dim))");
  const hiddenSize = r.positiveInt('n_embd');
  const heads = r.positiveInt('n_head');
  const eosTokenId = r.firstTokenId('eos_token_id');
  return {
    family: 'gpt2',
    file: r.file,
    hiddenSize,
    innerSize: r.positiveInt('n_inner', 4 * hiddenSize),
    layers: r.positiveInt('n_layer'),
    heads,
    headDim: evenHeadDim(r, hiddenSize, heads, 'n_embd', 'n_head'),
    layerNormEps: r.positiveNumber('layer_norm_epsilon', 1e-5),
    vocabSize: r.positiveInt('vocab_size'),
    maxPositions: r.positiveInt('n_positions'),
    ...(eosTokenId !== undefined ? { eosTokenId } : {}),
  };
}

function parseBert(r: ConfigReader): BertConfig {
  r.oneOf('hidden_act', ['gelu'], 'gelu');
  r.oneOf('position_embedding_type', ['absolute'], 'absolute');
  if (r.bool('is_decoder', false)) r.fail("unsupported: 'is_decoder' is true (kiln builds BERT as an encoder)");
  const hiddenSize = r.positiveInt('hidden_size');
  const heads = r.positiveInt('num_attention_heads');
  return {
    family: 'bert',
    file: r.file,
    hiddenSize,
    intermediateSize: r.positiveInt('intermediate_size'),
    layers: r.positiveInt('num_hidden_layers'),
    heads,
    headDim: evenHeadDim(r, hiddenSize, heads, 'hidden_size', 'num_attention_heads'),
    layerNormEps: r.positiveNumber('layer_norm_eps', 1e-12),
    vocabSize: r.positiveInt('vocab_size'),
    typeVocabSize: r.positiveInt('type_vocab_size', 2),
    maxPositions: r.positiveInt('max_position_embeddings'),
  };
}
