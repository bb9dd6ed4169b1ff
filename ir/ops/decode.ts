// Ops for autoregressive decoding with a KV cache. They take the current position (`pos`, tokens already in the
// cache) and the number of valid rows in this step (`len`) as i32 scalars, so one compiled graph serves every
// step: in an artifact both arrive as uniforms and no kernel is rebuilt per token.
//
// Row layout is [T, H, D] (tokens, heads, head dim) for queries and new keys/values, and [S, H, D] for the cache
// (S = the cache's capacity), so a projection's [T, H*D] output reshapes to it without moving data and a cache
// write is a contiguous copy of rows. Query row t sits at absolute position pos + t; rows t >= len are padding
// (a prefill chunk shorter than its compiled length) and produce zeros where they would otherwise be read.
import { isFloat } from '../dtype.js';
import { type AttrReader, OpError, registerOp } from '../op.js';
import type { Dim } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs } from './common.js';

function requireScalarInt(op: string, t: TensorType | undefined, what: string): void {
  if (!t) return;
  if (t.dtype !== 'i32' || t.shape.length !== 0) throw new OpError(`${op} needs ${what} as an i32 scalar, got ${t.dtype}[${t.shape.join(',')}]`);
}

function requireRank(op: string, t: TensorType, rank: number, what: string): void {
  if (t.shape.length !== rank) throw new OpError(`${op} needs ${what} of rank ${rank}, got [${t.shape.join(',')}]`);
  if (!isFloat(t.dtype)) throw new OpError(`${op} needs ${what} of a float dtype, got ${t.dtype}`);
}

function sameDim(op: string, a: Dim, b: Dim, what: string): void {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) throw new OpError(`${op}: ${what} (${a} vs ${b})`);
  if (typeof a !== typeof b || (typeof a === 'string' && a !== b)) throw new OpError(`${op}: ${what} (${a} vs ${b})`);
}

const scalar = (t: Tensor | undefined, fallback = 0): number => (t ? t.data[0]! : fallback);

/** pos and len as checked integers: 0 <= pos, 0 <= len <= rows. */
function positions(op: string, pos: Tensor | undefined, len: Tensor, rows: number): { pos: number; len: number } {
  const p = scalar(pos);
  const l = scalar(len);
  if (p < 0) throw new OpError(`${op}: pos is ${p}; it must be >= 0`);
  if (l < 0 || l > rows) throw new OpError(`${op}: len is ${l}; it must be in 0..${rows} (the step's rows)`);
  return { pos: p, len: l };
}

/**
 * The rotation angle of pair i (of D/2) at a position, as Hugging Face computes it: inv_freq = theta^(-2i/D).
 * Exported for the kernel test's tolerance reasoning and the importers' documentation.
 */
export function ropeAngle(position: number, i: number, dim: number, theta: number): number {
  return position / Math.pow(theta, (2 * i) / dim);
}

// Rope(x[T,H,D], pos) rotates each head's vector by its row's position, "rotate_half" style (Llama, Mistral,
// Qwen2; GPT-NeoX): element i pairs with element i + D/2. Only the first `rotary_dim` elements (all when 0)
// are rotated; the rest pass through (partial rotary, as in Phi and GPT-J-style configs).
registerOp({
  name: 'Rope',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { theta: { kind: 'float', default: 10000 }, rotary_dim: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [x, pos] = checkInputs('Rope', inputs, 2) as [TensorType, TensorType];
    requireRank('Rope', x, 3, 'x [tokens, heads, head_dim]');
    requireScalarInt('Rope', pos, 'pos');
    const d = x.shape[2]!;
    const r = attrs.int('rotary_dim');
    if (typeof d === 'number') {
      const rot = r === 0 ? d : r;
      if (rot % 2 !== 0 || rot > d || rot < 0) throw new OpError(`Rope: rotary_dim ${rot} must be even and at most the head dim ${d}`);
    }
    if (!(attrs.float('theta') > 0)) throw new OpError(`Rope: theta must be positive, got ${attrs.float('theta')}`);
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const [x, posT] = inputs as [Tensor, Tensor];
    const [T, H, D] = x.shape as [number, number, number];
    const rot = attrs.int('rotary_dim') || D;
    const half = rot / 2;
    const theta = attrs.float('theta');
    const pos = scalar(posT);
    const y = Float64Array.from(x.data);
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const base = (t * H + h) * D;
        for (let i = 0; i < half; i++) {
          const a = ropeAngle(pos + t, i, rot, theta);
          const x0 = x.data[base + i]!;
          const x1 = x.data[base + i + half]!;
          y[base + i] = x0 * Math.cos(a) - x1 * Math.sin(a);
          y[base + i + half] = x1 * Math.cos(a) + x0 * Math.sin(a);
        }
      }
    return [makeTensor(x.dtype, x.shape, y)];
  },
});

// CacheWrite(cache[S,H,D], new[T,H,D], pos, len) -> cache with rows pos..pos+len-1 replaced by new's first len
// rows. Functional in the IR; the compiler writes in place into the cache's persistent buffer.
registerOp({
  name: 'CacheWrite',
  inputs: { min: 4, max: 4 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [cache, rows, pos, len] = checkInputs('CacheWrite', inputs, 4) as TensorType[];
    requireRank('CacheWrite', cache!, 3, 'cache [capacity, heads, head_dim]');
    requireRank('CacheWrite', rows!, 3, 'new rows [tokens, heads, head_dim]');
    if (cache!.dtype !== rows!.dtype) throw new OpError(`CacheWrite: cache is ${cache!.dtype} but the new rows are ${rows!.dtype}`);
    sameDim('CacheWrite', cache!.shape[1]!, rows!.shape[1]!, 'cache and new rows differ in heads');
    sameDim('CacheWrite', cache!.shape[2]!, rows!.shape[2]!, 'cache and new rows differ in head dim');
    requireScalarInt('CacheWrite', pos, 'pos');
    requireScalarInt('CacheWrite', len, 'len');
    return [tensorType(cache!.dtype, cache!.shape)];
  },
  reference(inputs) {
    const [cache, rows, posT, lenT] = inputs as [Tensor, Tensor, Tensor, Tensor];
    const [S, H, D] = cache.shape as [number, number, number];
    const { pos, len } = positions('CacheWrite', posT, lenT, rows.shape[0]!);
    if (pos + len > S) throw new OpError(`CacheWrite: rows ${pos}..${pos + len - 1} do not fit a cache of ${S} positions`);
    const y = Float64Array.from(cache.data);
    y.set(rows.data.subarray(0, len * H * D), pos * H * D);
    return [makeTensor(cache.dtype, cache.shape, y)];
  },
});

// Attention(q[T,Hq,D], k[S,Hkv,D], v[S,Hkv,D], pos?, len) -> [T,Hq,D]: softmax(scale * q.k) . v per query head,
// with grouped-query sharing (query head h reads kv head h / (Hq/Hkv)). Key j is visible to row t when
// j < pos + len and, if causal, j <= pos + t. Rows t >= len are zeros. pos omitted means 0 (no cache: k and v
// are this step's own rows, as in an encoder).
registerOp({
  name: 'Attention',
  inputs: { min: 5, max: 5 },
  outputs: 1,
  attrs: { scale: { kind: 'float', required: true }, causal: { kind: 'bool', default: true } },
  infer(inputs) {
    const [q, k, v, pos, len] = checkInputs('Attention', inputs, 3, 5) as (TensorType | undefined)[];
    if (!len) throw new OpError('Attention needs len (input 4)');
    requireRank('Attention', q!, 3, 'q [tokens, heads, head_dim]');
    requireRank('Attention', k!, 3, 'k [keys, kv_heads, head_dim]');
    requireRank('Attention', v!, 3, 'v [keys, kv_heads, head_dim]');
    for (const [t, what] of [[k!, 'k'], [v!, 'v']] as const) if (t.dtype !== q!.dtype) throw new OpError(`Attention: ${what} is ${t.dtype} but q is ${q!.dtype}`);
    sameDim('Attention', k!.shape[0]!, v!.shape[0]!, 'k and v differ in keys');
    sameDim('Attention', k!.shape[1]!, v!.shape[1]!, 'k and v differ in kv heads');
    sameDim('Attention', q!.shape[2]!, k!.shape[2]!, 'q and k differ in head dim');
    sameDim('Attention', q!.shape[2]!, v!.shape[2]!, 'q and v differ in head dim');
    const hq = q!.shape[1]!;
    const hkv = k!.shape[1]!;
    if (typeof hq === 'number' && typeof hkv === 'number' && (hkv === 0 || hq % hkv !== 0))
      throw new OpError(`Attention: ${hq} query heads cannot share ${hkv} kv heads evenly`);
    requireScalarInt('Attention', pos, 'pos');
    requireScalarInt('Attention', len, 'len');
    return [tensorType(q!.dtype, q!.shape)];
  },
  reference(inputs, attrs: AttrReader) {
    const [q, k, v, posT, lenT] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined, Tensor];
    const [T, Hq, D] = q.shape as [number, number, number];
    const [S, Hkv] = k.shape as [number, number];
    const { pos, len } = positions('Attention', posT, lenT, T);
    const keys = pos + len;
    if (keys > S) throw new OpError(`Attention: ${keys} visible keys exceed the ${S} keys given`);
    const scale = attrs.float('scale');
    const causal = attrs.bool('causal');
    const group = Hq / Hkv;
    const y = new Float64Array(T * Hq * D);
    const scores = new Float64Array(S);
    for (let t = 0; t < len; t++)
      for (let h = 0; h < Hq; h++) {
        const kh = Math.floor(h / group);
        const qBase = (t * Hq + h) * D;
        const visible = causal ? Math.min(keys, pos + t + 1) : keys;
        let max = -Infinity;
        for (let j = 0; j < visible; j++) {
          let s = 0;
          const kBase = (j * Hkv + kh) * D;
          for (let d = 0; d < D; d++) s += q.data[qBase + d]! * k.data[kBase + d]!;
          scores[j] = s * scale;
          max = Math.max(max, scores[j]!);
        }
        let sum = 0;
        for (let j = 0; j < visible; j++) sum += scores[j] = Math.exp(scores[j]! - max);
        for (let j = 0; j < visible; j++) {
          const p = scores[j]! / sum;
          const vBase = (j * Hkv + kh) * D;
          for (let d = 0; d < D; d++) y[qBase + d] += p * v.data[vBase + d]!;
        }
      }
    return [makeTensor(q.dtype, q.shape, y)];
  },
});

// LastRow(x[T, ...], len) -> x[len-1]: the last valid row of a padded step (the token whose logits pick the next
// one). len = 0 is an error in the interpreter; kernels clamp to row 0.
registerOp({
  name: 'LastRow',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [x, len] = checkInputs('LastRow', inputs, 2) as [TensorType, TensorType];
    if (x.shape.length < 1) throw new OpError('LastRow needs x of rank >= 1');
    requireScalarInt('LastRow', len, 'len');
    return [tensorType(x.dtype, x.shape.slice(1))];
  },
  reference(inputs) {
    const [x, lenT] = inputs as [Tensor, Tensor];
    const rows = x.shape[0]!;
    const len = scalar(lenT);
    if (len < 1 || len > rows) throw new OpError(`LastRow: len is ${len}; it must be in 1..${rows}`);
    const width = x.data.length / rows;
    return [makeTensor(x.dtype, x.shape.slice(1), x.data.subarray((len - 1) * width, len * width))];
  },
});

// Positions(pos) {count} -> i32[count] = pos, pos+1, ...: the absolute positions of a step's rows, to gather
// learned position embeddings (GPT-2, BERT) without the position ever being a storage tensor.
registerOp({
  name: 'Positions',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { count: { kind: 'int', required: true } },
  infer(inputs, attrs) {
    const [pos] = checkInputs('Positions', inputs, 1) as [TensorType];
    requireScalarInt('Positions', pos, 'pos');
    const count = attrs.int('count');
    if (count < 0) throw new OpError(`Positions: count must be >= 0, got ${count}`);
    return [tensorType('i32', [count])];
  },
  reference(inputs, attrs) {
    const pos = scalar(inputs[0]);
    return [makeTensor('i32', [attrs.int('count')], (t) => pos + t)];
  },
});
