// Random Hugging Face checkpoints (config.json, model.safetensors, tokenizer.json) for tests and benchmarks: the
// layout and tensor names of real llama / gpt2 / bert checkpoints, filled with deterministic pseudo-random values
// (F32 unless asked for F16 or BF16). Values are generated chunk by chunk while the file is written, so a 2 GB
// preset is written in the memory of one chunk (about 10 s and 140 MB for llama-500m).
//
// Initialisation is chosen so that the forward pass is not degenerate (logits with a spread of about one, so
// greedy tokens are well separated and a wrong weight shows): linear weights ~ N(0, 1/fan_in) (for GPT-2 size
// that is ~N(0, 0.02-0.036), like real inits), embeddings ~ N(0, 1/hidden) (tied heads then give unit logits),
// norm weights ~ 1 + N(0, 0.1) and biases ~ N(0, 0.1), so that a norm or a bias taken from the wrong place
// changes the result measurably.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HF_MODEL_TYPES } from '../../ir/import/hf/index.js';
import { type TensorToWrite, writeSafetensors, writeShardedSafetensors } from '../../ir/import/safetensors/index.js';
import { bf16Bits, f16Bits } from '../../runtime/codec.js';
import { TINY_TOKENIZER_MIN_VOCAB, TINY_TOKENIZER_SPECIAL_TOKENS, tinyTokenizerJson } from './tiny-tokenizer.js';

export type CheckpointFamily = 'llama' | 'gpt2' | 'bert';
export type PresetName = 'tiny' | 'tiny-tied' | 'gpt2-124m' | 'llama-500m';
/** A named preset, or config.json keys laid over the family's 'tiny' preset. */
export type Preset = PresetName | Readonly<Record<string, unknown>>;

export const PRESET_NAMES: readonly PresetName[] = ['tiny', 'tiny-tied', 'gpt2-124m', 'llama-500m'];

/** A tensor of the checkpoint with how its values are drawn: N(mean, std^2). */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly mean: number;
  readonly std: number;
}

/** Float encodings a checkpoint can be written in (real checkpoints are mostly BF16 or F16). */
export type CheckpointFormat = 'F32' | 'F16' | 'BF16';

export interface WriteOptions {
  /** Element encoding of every tensor; F32 unless given. */
  readonly format?: CheckpointFormat;
  /** Prepended to every tensor name ('transformer.' as GPT2LMHeadModel saves, 'bert.' as BertFor* saves). */
  readonly tensorPrefix?: string;
  /** Write model-0000k-of-0000n shards of at most this many bytes plus model.safetensors.index.json. */
  readonly maxShardBytes?: number;
  /** Edit the tensor list before writing (tests drop or reshape tensors to check the importer's errors). */
  readonly transform?: (tensors: TensorSpec[]) => TensorSpec[];
}

export interface WrittenCheckpoint {
  readonly dir: string;
  readonly configPath: string;
  /** model.safetensors, or model.safetensors.index.json when sharded. */
  readonly weightsPath: string;
  /** Absent when the vocabulary is too large for the tiny tokenizer. */
  readonly tokenizerPath?: string;
  readonly parameters: number;
}

/** Vocabularies up to this size get a tiny tokenizer.json; real-sized ones would get a useless giant one. */
export const TOKENIZER_MAX_VOCAB = 4096;

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
    case 'gpt2-124m':
      return only('gpt2', GPT2_124M);
    case 'llama-500m':
      return only('llama', LLAMA_500M);
    default:
      throw new Error(`unknown preset '${String(preset)}' (presets: ${PRESET_NAMES.join(', ')}, or an object of config keys)`);
  }
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

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

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

/** 32-bit FNV-1a: a tensor's stream depends on its name, so streams do not shift when tensors are added. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = 0.02425;
  if (p > 1 - tail) return -normalQuantile(1 - p);
  if (p < tail) {
    const x = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * x + c[1]!) * x + c[2]!) * x + c[3]!) * x + c[4]!) * x + c[5]!) / ((((d[0]! * x + d[1]!) * x + d[2]!) * x + d[3]!) * x + 1);
  }
  const x = p - 0.5;
  const r = x * x;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * x) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * The standard normal at 65536 evenly spaced quantiles: a draw is one table lookup per 16 random bits, five
 * times faster than Box-Muller (whose log and cos dominate a 2 GB preset), at the price of 65536 levels and
 * tails cut at 4.3 sigma, which random weights do not miss.
 */
let quantileTable: Float64Array | undefined;
function normalTable(): Float64Array {
  return (quantileTable ??= Float64Array.from({ length: 1 << 16 }, (_, k) => normalQuantile((k + 0.5) / (1 << 16))));
}

/** Elements per generated chunk: 4 MiB of F32, whatever the tensor's size. */
const CHUNK_ELEMENTS = 1 << 20;

/**
 * The tensor's values, N(mean, std^2) by table lookup from a mulberry32 stream seeded by (seed, name), one F32
 * chunk at a time. mulberry32 is a tiny, fast, well-mixed 32-bit generator; each output gives two draws.
 */
function* normalChunks(spec: TensorSpec, seed: number): Generator<Float32Array> {
  const table = normalTable();
  let state = (hashName(spec.name) ^ Math.imul(seed, 0x9e3779b1)) | 0;
  let left = elementCount(spec.shape);
  while (left > 0) {
    const n = Math.min(left, CHUNK_ELEMENTS);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      t = (t ^ (t >>> 14)) >>> 0;
      values[i] = spec.mean + spec.std * table[t & 0xffff]!;
      if (i + 1 < n) values[i + 1] = spec.mean + spec.std * table[t >>> 16]!;
    }
    left -= n;
    yield values;
  }
}

/** The chunks' bytes in `format`; 16-bit formats round each F32 value to nearest even. */
function* encodeChunks(chunks: Iterable<Float32Array>, format: CheckpointFormat): Generator<Uint8Array> {
  for (const values of chunks) {
    if (format === 'F32') {
      yield new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      continue;
    }
    const bits = format === 'F16' ? f16Bits : bf16Bits;
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = bits(values[i]!);
    yield new Uint8Array(half.buffer);
  }
}

/**
 * Write a random checkpoint of `family`/`preset` into `dir` (created if needed): config.json, model.safetensors
 * (or shards) and, for small vocabularies, tokenizer.json. The same arguments always give the same bytes.
 */
export function writeRandomCheckpoint(dir: string, family: CheckpointFamily, preset: Preset, seed = 0, options: WriteOptions = {}): WrittenCheckpoint {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  const json = presetConfig(family, preset);
  const base = presetTensors(family, preset);
  const vocab = json.vocab_size as number;
  const specs = options.transform ? options.transform(base) : base;
  const prefix = options.tensorPrefix ?? '';
  const format = options.format ?? 'F32';
  const tensors: TensorToWrite[] = specs.map((s) => ({ name: prefix + s.name, format, shape: s.shape, chunks: () => encodeChunks(normalChunks(s, seed), format) }));
  const metadata = { format: 'pt', generator: `kiln make-checkpoints ${family} seed ${seed}` };

  const configPath = join(folder, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(json, null, 2)}\n`);
  const weightsPath =
    options.maxShardBytes !== undefined
      ? writeShardedSafetensors(folder, tensors, options.maxShardBytes, metadata).indexPath
      : (writeSafetensors(join(folder, 'model.safetensors'), tensors, metadata), join(folder, 'model.safetensors'));
  let tokenizerPath: string | undefined;
  if (vocab >= TINY_TOKENIZER_MIN_VOCAB && vocab <= TOKENIZER_MAX_VOCAB) {
    tokenizerPath = join(folder, 'tokenizer.json');
    writeFileSync(tokenizerPath, JSON.stringify(tinyTokenizerJson(vocab)));
  }
  return { dir: folder, configPath, weightsPath, ...(tokenizerPath ? { tokenizerPath } : {}), parameters: parameterCount(specs) };
}
