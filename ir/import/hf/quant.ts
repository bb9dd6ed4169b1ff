// Pre-quantized Hugging Face checkpoints (../shared/docs/quant-formats.md): a config's `quantization_config`
// (or a quantize_config.json beside it) says GPTQ or AWQ, and each quantized nn.Linear `<name>` is stored as
// `<name>.qweight`, `.qzeros`, `.scales` (and GPTQ's `.g_idx`) instead of `<name>.weight`. The layer becomes one
// quant-encoded weight (ir/import/quant-weight.ts: codes stay codes) read by Gemm with transB = 1:
//   GPTQ  qweight int32 [K * bits / 32, N]: column n is a bit stream of K codes along K, LSB first (3-bit codes
//         straddle words the same way); qzeros int32 [G, N * bits / 32]: row g a bit stream of N zero points
//         (v1, checkpoint_format 'gptq', stores z - 1); g_idx [K] the group of each input. Act-order (desc_act)
//         permutes g_idx: kiln sorts K by group (the codes at compile time, the activation by a Gather of the
//         same permutation at run time), so groups are consecutive again.
//   AWQ   qweight int32 [K, N / 8]: nibble i of word c holds column 8c + [0,2,4,6,1,3,5,7][i]; qzeros the same
//         per group; scales f16 [G, N].
import type { GraphBuilder } from '../../builder.js';
import { readExternalBytes } from '../../external.js';
import { makeTensor } from '../../tensor.js';
import { declareQuantWeight } from '../quant-weight.js';
import { ConfigReader } from './config-reader.js';
import { hfError } from './errors.js';
import type { Weights } from './weights.js';

export interface HfQuantConfig {
  readonly file: string;
  readonly method: 'gptq' | 'awq';
  readonly bits: number;
  /** Inputs per group; 0 for one group over all of K (group_size -1). */
  readonly group: number;
  /** GPTQ zero points stored minus one (checkpoint_format 'gptq', the default). */
  readonly zeroMinusOne: boolean;
}

/** The quantization_config object of a config, or undefined when the checkpoint is not pre-quantized. */
export function parseQuantConfig(file: string, raw: unknown): HfQuantConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) return hfError(file, `'quantization_config' must be an object, got ${JSON.stringify(raw)}`);
  const r = new ConfigReader(file, raw as Record<string, unknown>, 'quantization_config');
  const method = r.oneOf('quant_method', ['gptq', 'awq'] as const);
  const bits = r.positiveInt('bits');
  const allowed = method === 'gptq' ? [2, 3, 4, 8] : [4];
  if (!allowed.includes(bits)) r.fail(`quantization_config bits is ${bits}; ${method.toUpperCase()} checkpoints kiln imports have ${allowed.join(', ')} bits`);
  const gs = r.raw('group_size') ?? -1;
  if (gs !== -1 && (typeof gs !== 'number' || !Number.isInteger(gs) || gs < 1)) r.fail(`quantization_config group_size must be a positive integer or -1, got ${JSON.stringify(gs)}`);
  r.rejectPresent('dynamic', 'per-module overrides of bits and group size are not imported; quantize every layer alike');
  if (method === 'awq') {
    const version = r.oneOf('version', ['gemm', 'gemv', 'gemv_fast', 'marlin', 'exllama', 'ipex'], 'gemm');
    if (version !== 'gemm') r.fail(`unsupported: AWQ version '${version}'; kiln imports the GEMM packing (re-save the model with version 'gemm')`);
    if (!r.bool('zero_point', true)) r.fail("unsupported: AWQ with zero_point false; kiln imports AWQ's zero-point (GEMM) checkpoints");
  }
  const format = method === 'gptq' ? r.oneOf('checkpoint_format', ['gptq', 'gptq_v2'], 'gptq') : 'gptq_v2';
  return { file, method, bits, group: gs === -1 ? 0 : (gs as number), zeroMinusOne: format === 'gptq' };
}

/** The bits [pos, pos + bits) of a stream of 32-bit words, word(i) the i-th, LSB first. */
function streamBits(word: (i: number) => number, pos: number, bits: number): number {
  const w = pos >>> 5;
  const shift = pos & 31;
  const lo = word(w) >>> shift;
  const v = shift + bits > 32 ? lo | (word(w + 1) << (32 - shift)) : lo;
  return (v & ((1 << bits) - 1)) >>> 0;
}

/**
 * The quantized linear layer `name` (out x in) applied to x [T, in] (+ bias), or undefined when the checkpoint
 * holds it unquantized.
 */
export function quantLinear(weights: Weights, b: GraphBuilder, x: string, name: string, out: number, inFeatures: number, bias: string | undefined): string | undefined {
  const q = weights.quant;
  if (!q || !weights.has(`${name}.qweight`)) return undefined;
  const [N, K] = [out, inFeatures];
  const group = q.group || K;
  const G = Math.ceil(K / group);
  const words = (suffix: string, shape: number[]): ((r: number, c: number) => number) => {
    const t = weights.tensor(`${name}.${suffix}`, shape, ['I32']);
    const bytes = readExternalBytes(t.data, shape);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return (r, c) => view.getInt32((r * shape[1]! + c) * 4, true);
  };
  const scaleT = weights.tensor(`${name}.scales`, [G, N], ['F16', 'F32']);
  const scales = weights.load(scaleT, [G, N], scaleT.format === 'F16' ? 'f16' : 'f32');
  const bits = q.bits;
  let code: (n: number, k: number) => number;
  let zero: (n: number, g: number) => number;
  let perm: number[] | undefined;
  if (q.method === 'awq') {
    if (N % 8) hfError(weights.checkpoint.path, `AWQ layer '${name}' has ${N} outputs, not a multiple of 8`);
    const qw = words('qweight', [K, N / 8]);
    const qz = words('qzeros', [G, N / 8]);
    const at = [0, 4, 1, 5, 2, 6, 3, 7]; // nibble of column 8c + j: the inverse of AWQ's [0,2,4,6,1,3,5,7]
    code = (n, k) => (qw(k, n >> 3) >>> (4 * at[n & 7]!)) & 15;
    zero = (n, g) => (qz(g, n >> 3) >>> (4 * at[n & 7]!)) & 15;
  } else {
    if ((K * bits) % 32 || (N * bits) % 32) hfError(weights.checkpoint.path, `GPTQ layer '${name}' is ${N} x ${K}: ${bits}-bit codes do not fill whole 32-bit words (K and N must be multiples of ${32 / gcd(bits, 32)})`);
    const qw = words('qweight', [(K * bits) / 32, N]);
    const qz = words('qzeros', [G, (N * bits) / 32]);
    const plus = q.zeroMinusOne ? 1 : 0;
    const rawCode = (n: number, k: number): number => streamBits((i) => qw(i, n), k * bits, bits);
    zero = (n, g) => streamBits((i) => qz(g, i), n * bits, bits) + plus;
    perm = groupOrder(weights, name, K, group);
    const p = perm;
    code = p ? (n, k) => rawCode(n, p[k]!) : rawCode;
  }
  const w = declareQuantWeight(b, {
    name: weights.prefix + name,
    dtype: 'f32',
    orientation: 'linear',
    n: N,
    k: K,
    bits,
    group,
    code,
    scaleDType: scales.dtype === 'f16' ? 'f16' : 'f32',
    scale: (n, g) => scales.data[g * N + n]!,
    zero,
  });
  const input = perm ? b.op('Gather', [x, b.constant(makeTensor('i32', [K], perm), `${weights.prefix}${name}.act_order`)], { axis: 1 }) : x;
  return b.op('Gemm', bias ? [input, w, bias] : [input, w], { transB: 1 });
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/**
 * The order of K that makes GPTQ's groups consecutive (act-order), or undefined when g_idx is k / group already
 * (or absent). Each group must hold `group` inputs, as GPTQ's act-order writes them.
 */
function groupOrder(weights: Weights, name: string, K: number, group: number): number[] | undefined {
  if (!weights.has(`${name}.g_idx`)) return undefined;
  const t = weights.tensor(`${name}.g_idx`, [K], ['I32', 'I64']);
  const g = weights.load(t, [K], 'i32').data;
  if (g.every((v, k) => v === Math.floor(k / group))) return undefined;
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => g[a]! - g[b]! || a - b);
  const bad = order.findIndex((k, i) => g[k] !== Math.floor(i / group));
  if (bad >= 0) hfError(t.data.file, `tensor '${weights.prefix}${name}.g_idx' does not put ${group} inputs in each group (group_size ${group}); the checkpoint and its quantization_config disagree`);
  return order;
}
