// Independent plain-JS forward passes of the three families, written from the transformers modeling code and
// sharing nothing with ir/import/hf but the checkpoint reader: whole sequences, no cache, no IR, plain loops over
// Float64Array weights. The importer's graphs, run by the interpreter, must agree with these.
import { readFileSync } from 'node:fs';
import { loadExternal } from '../../ir/external.js';
import { openCheckpoint } from '../../ir/import/safetensors/index.js';

type Config = Record<string, unknown>;
type Vec = Float64Array;

/** A checkpoint's tensors as float64 arrays, read on first use. */
class Tensors {
  private readonly checkpoint;
  private readonly cache = new Map<string, Vec>();
  constructor(
    path: string,
    private readonly prefix = '',
  ) {
    this.checkpoint = openCheckpoint(path);
  }
  has(name: string): boolean {
    return this.checkpoint.tensors.has(this.prefix + name);
  }
  get(name: string): Vec {
    const full = this.prefix + name;
    let v = this.cache.get(full);
    if (!v) {
      const t = this.checkpoint.tensors.get(full);
      if (!t) throw new Error(`reference: no tensor ${full}`);
      v = loadExternal(t.data, 'f32', t.shape).data;
      this.cache.set(full, v);
    }
    return v;
  }
  /** The checkpoint holds `prefix + name` for some of the candidate prefixes: pick the one it uses. */
  static withPrefix(path: string, probe: string, prefixes: readonly string[]): Tensors {
    const names = openCheckpoint(path).tensors;
    return new Tensors(path, prefixes.find((p) => names.has(p + probe)) ?? '');
  }
}

const num = (c: Config, key: string, fallback?: number): number => {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number') throw new Error(`reference: config has no ${key}`);
  return v;
};

/** y[out] = W[out, in] x + b (nn.Linear layout). */
function linear(W: Vec, x: Vec, out: number, b?: Vec): Vec {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < n; i++) s += W[o * n + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** y[out] = x W[in, out] + b (GPT-2 Conv1D layout). */
function conv1d(W: Vec, x: Vec, out: number, b: Vec): Vec {
  const y = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) for (let o = 0; o < out; o++) y[o] += x[i]! * W[i * out + o]!;
  return y;
}

function add(a: Vec, b: Vec): Vec {
  return a.map((v, i) => v + b[i]!);
}

function rmsNorm(x: Vec, w: Vec, eps: number): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

function layerNorm(x: Vec, w: Vec, b: Vec, eps: number): Vec {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  const inv = 1 / Math.sqrt(variance / x.length + eps);
  return x.map((v, i) => (v - mean) * inv * w[i]! + b[i]!);
}

/**
 * erf in double precision, written independently of the IR's: the Maclaurin series below 3 (its largest term
 * there is ~3e3, so under 1e-12 is lost to cancellation) and Laplace's continued fraction for erfc above,
 * evaluated bottom-up from a fixed depth.
 */
function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = a;
  for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
  const erfc = Math.exp(-a * a) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

/**
 * Multi-head attention of one query position over keys 0..visible-1. q is [heads*D] for position t, keys and
 * values are per position [kvHeads*D]; query head h reads kv head floor(h / (heads / kvHeads)).
 */
function attend(q: Vec, keys: Vec[], values: Vec[], visible: number, heads: number, kvHeads: number, D: number): Vec {
  const out = new Float64Array(heads * D);
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / group);
    const scores = new Float64Array(visible);
    let max = -Infinity;
    for (let j = 0; j < visible; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += q[h * D + d]! * keys[j]![kh * D + d]!;
      scores[j] = s / Math.sqrt(D);
      max = Math.max(max, scores[j]!);
    }
    let sum = 0;
    for (let j = 0; j < visible; j++) sum += scores[j] = Math.exp(scores[j]! - max);
    for (let j = 0; j < visible; j++) for (let d = 0; d < D; d++) out[h * D + d] += (scores[j]! / sum) * values[j]![kh * D + d]!;
  }
  return out;
}

/** transformers' apply_rotary_pos_emb: rotate_half pairs element i with i + D/2, inv_freq = theta^(-2i/D). */
function rotary(x: Vec, heads: number, D: number, position: number, theta: number): Vec {
  const y = Float64Array.from(x);
  const half = D / 2;
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / D);
      const [a, b] = [x[h * D + i]!, x[h * D + i + half]!];
      y[h * D + i] = a * Math.cos(angle) - b * Math.sin(angle);
      y[h * D + i + half] = b * Math.cos(angle) + a * Math.sin(angle);
    }
  return y;
}

const row = (table: Vec, index: number, width: number): Vec => table.slice(index * width, (index + 1) * width);

/** LlamaForCausalLM (also mistral, qwen2): logits at every position of `ids`. */
export function llamaForward(configPath: string, weightsPath: string, ids: readonly number[]): Vec[] {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
  const w = new Tensors(weightsPath);
  const H = num(c, 'hidden_size');
  const heads = num(c, 'num_attention_heads');
  const kvHeads = num(c, 'num_key_value_heads', heads);
  const D = num(c, 'head_dim', H / heads);
  const I = num(c, 'intermediate_size');
  const V = num(c, 'vocab_size');
  const eps = num(c, 'rms_norm_eps', 1e-6);
  const theta = num(c, 'rope_theta', 10000);
  const bias = (name: string): Vec | undefined => (w.has(name) ? w.get(name) : undefined);

  let xs = ids.map((id) => row(w.get('model.embed_tokens.weight'), id, H));
  for (let l = 0; l < num(c, 'num_hidden_layers'); l++) {
    const p = `model.layers.${l}`;
    const proj = (name: string, x: Vec, out: number): Vec => linear(w.get(`${p}.${name}.weight`), x, out, bias(`${p}.${name}.bias`));
    const hs = xs.map((x) => rmsNorm(x, w.get(`${p}.input_layernorm.weight`), eps));
    const qs = hs.map((h, t) => rotary(proj('self_attn.q_proj', h, heads * D), heads, D, t, theta));
    const ks = hs.map((h, t) => rotary(proj('self_attn.k_proj', h, kvHeads * D), kvHeads, D, t, theta));
    const vs = hs.map((h) => proj('self_attn.v_proj', h, kvHeads * D));
    xs = xs.map((x, t) => add(x, proj('self_attn.o_proj', attend(qs[t]!, ks, vs, t + 1, heads, kvHeads, D), H)));
    xs = xs.map((x) => {
      const h = rmsNorm(x, w.get(`${p}.post_attention_layernorm.weight`), eps);
      const gate = proj('mlp.gate_proj', h, I);
      const up = proj('mlp.up_proj', h, I);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
      return add(x, proj('mlp.down_proj', act, H));
    });
  }
  const head = c.tie_word_embeddings === true || !w.has('lm_head.weight') ? 'model.embed_tokens.weight' : 'lm_head.weight';
  return xs.map((x) => linear(w.get(head), rmsNorm(x, w.get('model.norm.weight'), eps), V));
}

/** GPT2LMHeadModel: logits at every position of `ids`. */
export function gpt2Forward(configPath: string, weightsPath: string, ids: readonly number[]): Vec[] {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
  const w = Tensors.withPrefix(weightsPath, 'wte.weight', ['', 'transformer.']);
  const H = num(c, 'n_embd');
  const heads = num(c, 'n_head');
  const D = H / heads;
  const inner = num(c, 'n_inner', 4 * H);
  const V = num(c, 'vocab_size');
  const eps = num(c, 'layer_norm_epsilon', 1e-5);
  const ln = (x: Vec, name: string): Vec => layerNorm(x, w.get(`${name}.weight`), w.get(`${name}.bias`), eps);
  const conv = (x: Vec, name: string, out: number): Vec => conv1d(w.get(`${name}.weight`), x, out, w.get(`${name}.bias`));
  const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

  let xs = ids.map((id, t) => add(row(w.get('wte.weight'), id, H), row(w.get('wpe.weight'), t, H)));
  for (let l = 0; l < num(c, 'n_layer'); l++) {
    const p = `h.${l}`;
    const qkv = xs.map((x) => conv(ln(x, `${p}.ln_1`), `${p}.attn.c_attn`, 3 * H));
    const ks = qkv.map((y) => y.slice(H, 2 * H));
    const vs = qkv.map((y) => y.slice(2 * H, 3 * H));
    xs = xs.map((x, t) => add(x, conv(attend(qkv[t]!.slice(0, H), ks, vs, t + 1, heads, heads, D), `${p}.attn.c_proj`, H)));
    xs = xs.map((x) => add(x, conv(conv(ln(x, `${p}.ln_2`), `${p}.mlp.c_fc`, inner).map(geluNew), `${p}.mlp.c_proj`, H)));
  }
  return xs.map((x) => linear(w.get('wte.weight'), ln(x, 'ln_f'), V));
}

/** BertModel: last_hidden_state rows of `ids` (no padding) and pooler_output when the pooler exists. */
export function bertForward(
  configPath: string,
  weightsPath: string,
  ids: readonly number[],
  tokenTypes: readonly number[],
): { lastHiddenState: Vec[]; poolerOutput?: Vec } {
  const c = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
  const w = Tensors.withPrefix(weightsPath, 'embeddings.word_embeddings.weight', ['', 'bert.']);
  const H = num(c, 'hidden_size');
  const heads = num(c, 'num_attention_heads');
  const D = H / heads;
  const I = num(c, 'intermediate_size');
  const eps = num(c, 'layer_norm_eps', 1e-12);
  const ln = (x: Vec, name: string): Vec =>
    w.has(`${name}.weight`) ? layerNorm(x, w.get(`${name}.weight`), w.get(`${name}.bias`), eps) : layerNorm(x, w.get(`${name}.gamma`), w.get(`${name}.beta`), eps);
  const dense = (x: Vec, name: string, out: number): Vec => linear(w.get(`${name}.weight`), x, out, w.get(`${name}.bias`));
  const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));

  let xs = ids.map((id, t) =>
    ln(
      add(add(row(w.get('embeddings.word_embeddings.weight'), id, H), row(w.get('embeddings.position_embeddings.weight'), t, H)), row(w.get('embeddings.token_type_embeddings.weight'), tokenTypes[t]!, H)),
      'embeddings.LayerNorm',
    ),
  );
  for (let l = 0; l < num(c, 'num_hidden_layers'); l++) {
    const p = `encoder.layer.${l}`;
    const qs = xs.map((x) => dense(x, `${p}.attention.self.query`, H));
    const ks = xs.map((x) => dense(x, `${p}.attention.self.key`, H));
    const vs = xs.map((x) => dense(x, `${p}.attention.self.value`, H));
    xs = xs.map((x, t) => ln(add(x, dense(attend(qs[t]!, ks, vs, xs.length, heads, heads, D), `${p}.attention.output.dense`, H)), `${p}.attention.output.LayerNorm`));
    xs = xs.map((x) => ln(add(x, dense(dense(x, `${p}.intermediate.dense`, I).map(gelu), `${p}.output.dense`, H)), `${p}.output.LayerNorm`));
  }
  const poolerOutput = w.has('pooler.dense.weight') ? dense(xs[0]!, 'pooler.dense', H).map(Math.tanh) : undefined;
  return { lastHiddenState: xs, ...(poolerOutput ? { poolerOutput } : {}) };
}

export function argMax(v: Vec): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Largest |a - b| over two equally long vectors. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
