// ONNX Attention (opset 23; 24 adds the nonpad_kv_seqlen input), decomposed into IR ops the way the op's
// function body computes it:
//
//   scores = (Q * sqrt(scale)) @ (K * sqrt(scale))^T           qk_matmul_output_mode 0
//   scores = softcap * tanh(scores / softcap)     (softcap > 0)  mode 1
//   scores = scores + bias                                       mode 2
//   probs  = softmax(scores), rows whose bias is all -inf -> 0   mode 3
//   Y      = probs @ V
//
// where bias sums the attention mask (bool: false -> -inf; float: added; a mask shorter than the keys is padded
// with -inf), the causal mask (key j visible to query i when j <= i + offset, offset = the past length, or in 24
// nonpad_kv_seqlen[b] - L when that input is given), in 24 the padding mask (keys j >= nonpad_kv_seqlen[b]) and
// from 28 the sliding window (key j visible to position p when p - left_window_size <= j <= p + right_window_size).
// Softcap comes before the bias, so -inf mask entries never pass through tanh.
//
// Grouped-query attention needs no copies of K and V: query head h reads kv head h / G (G = Hq / Hkv), so Q's
// [B, Hq, L, E] is viewed as [B, Hkv, G*L, E] (a free reshape) and multiplied by each kv head once.
//
// Half-precision inputs are computed in f32 and rounded once at the end; softmax_precision only ever asks for at
// least the input's precision, which f32 gives (double is narrowed to f32, as kiln does everywhere).
//
// kiln's fused Attention op (ir/ops/decode.ts) is not used: it serves the decoder importers, with batch-less
// [T, H, D] rows, equal q/v head sizes and pos/len read from uniform graph inputs, none of which an ONNX
// Attention node provides. MatMul -> elementwise -> Softmax -> MatMul is what the scheduler fuses instead.
import { isStaticShape } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { TensorType } from '../../../types.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

const NEG_INF = -Infinity;

interface Dims {
  readonly batch: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly qLen: number;
  readonly headSize: number;
  readonly vHeadSize: number;
  /** Keys after the past is prepended. */
  readonly keys: number;
  readonly past: number;
}

function staticDims(cx: NodeContext, i: number, what: string): number[] {
  const t = cx.type(i);
  if (!isStaticShape(t.shape))
    unsupported('dynamic', `${cx.op} ${what} '${cx.input(i)}' has shape [${t.shape.join(',')}]; kiln needs static shapes here (bind the symbols with the importer's symbols option)`);
  return t.shape as number[];
}

/** Q, K or V as [B, heads, len, size] f32: 3-D inputs [B, len, heads*size] are split into heads. */
function toHeads(cx: NodeContext, i: number, what: string, heads: number | undefined): string {
  const shape = staticDims(cx, i, what);
  let x = toF32(cx, cx.input(i), cx.type(i));
  if (shape.length === 4) return x;
  if (shape.length !== 3) invalid(`${cx.op} ${what} must be 3-D or 4-D, got [${shape.join(',')}]`);
  const attr = i === 0 ? 'q_num_heads' : 'kv_num_heads';
  if (!heads || heads <= 0) return invalid(`${cx.op} with 3-D inputs needs attribute ${attr} (> 0)`);
  const [b, len, hidden] = shape as [number, number, number];
  if (hidden % heads !== 0) invalid(`${cx.op} ${what} hidden size ${hidden} is not a multiple of ${attr} = ${heads}`);
  x = cx.emit1('Reshape', [x], { shape: [b, len, heads, hidden / heads] });
  return cx.emit1('Transpose', [x], { perm: [0, 2, 1, 3] });
}

function toF32(cx: NodeContext, name: string, t: TensorType): string {
  return t.dtype === 'f32' ? name : cx.emit1('Cast', [name], { to: 'f32' });
}

const scalar = (cx: NodeContext, v: number, hint: string): string => cx.newConst(makeTensor('f32', [], [v]), hint);

/** `a` @ `b` per head where `a` has Hq heads and `b` has Hkv: the query heads of a group share one product. */
function groupedMatMul(cx: NodeContext, a: string, b: string, d: Dims, rows: number, cols: number): string {
  const group = d.qHeads / d.kvHeads;
  if (group === 1) return cx.emit1('MatMul', [a, b]);
  const aGrouped = cx.emit1('Reshape', [a], { shape: [d.batch, d.kvHeads, group * rows, -1] });
  const product = cx.emit1('MatMul', [aGrouped, b]);
  return cx.emit1('Reshape', [product], { shape: [d.batch, d.qHeads, rows, cols] });
}

/** The additive bias [.., L, S] of the mask, causal and padding terms, or undefined when nothing is masked. */
function attentionBias(cx: NodeContext, d: Dims, opset: number): string | undefined {
  const terms: string[] = [];
  if (cx.has(3)) terms.push(maskBias(cx, d));
  const nonpad = opset >= 24 && cx.has(6) ? cx.emit1('Cast', [cx.input(6)], { to: 'i32' }) : undefined;
  if (nonpad !== undefined) {
    const n = cx.type(6).shape;
    if (n.length !== 1 || (typeof n[0] === 'number' && n[0] !== d.batch))
      invalid(`${cx.op} nonpad_kv_seqlen must have shape [${d.batch}] (the batch), got [${n.join(',')}]`);
    if (cx.has(4) || cx.has(5)) invalid(`${cx.op} takes nonpad_kv_seqlen or past_key/past_value, not both`);
  }
  const zero = scalar(cx, 0, 'zero');
  const negInf = scalar(cx, NEG_INF, 'neg_inf');
  const cols = cx.newConst(makeTensor('i32', [1, 1, 1, d.keys], (j) => j), 'key_index');
  const hide = (blocked: string): number => terms.push(cx.emit1('Where', [blocked, negInf, zero]));
  // Query i sits at position p = i + offset among the keys. The masks below are built from index vectors, so an
  // [L, S] mask is folded into a constant only within the importer's fold limit and computed on the device beyond.
  const causal = cx.attrs.int('is_causal', 0) !== 0;
  const [left, right] = [cx.attrs.int('left_window_size', -1), cx.attrs.int('right_window_size', -1)];
  if (left < -1 || right < -1) invalid(`${cx.op} window sizes must be >= -1 (-1: unbounded), got left ${left}, right ${right}`);
  if (causal || left >= 0 || right >= 0) {
    const p =
      nonpad === undefined
        ? cx.newConst(makeTensor('i32', [1, 1, d.qLen, 1], (i) => i + d.past), 'position')
        : cx.emit1('Add', [cx.newConst(makeTensor('i32', [1, 1, d.qLen, 1], (i) => i - d.qLen), 'position'), cx.emit1('Reshape', [nonpad], { shape: [d.batch, 1, 1, 1] })]);
    const shifted = (by: number): string => (by === 0 ? p : cx.emit1('Add', [p, cx.newConst(makeTensor('i32', [], [by]), 'window')]));
    if (causal) hide(cx.emit1('Less', [p, cols])); // j > p
    if (right >= 0 && !causal) hide(cx.emit1('Less', [shifted(right), cols])); // j > p + right
    if (left >= 0) hide(cx.emit1('Less', [cols, shifted(-left)])); // j < p - left
  }
  if (nonpad !== undefined) {
    const valid = cx.emit1('Less', [cols, cx.emit1('Reshape', [nonpad], { shape: [d.batch, 1, 1, 1] })]);
    terms.push(cx.emit1('Where', [valid, zero, negInf]));
  }
  return terms.reduce<string | undefined>((acc, t) => (acc === undefined ? t : cx.emit1('Add', [acc, t])), undefined);
}

/** attn_mask as an additive f32 bias; bool keeps where true. Padded with -inf up to the key count. */
function maskBias(cx: NodeContext, d: Dims): string {
  const mt = cx.type(3);
  const shape = staticDims(cx, 3, 'attn_mask');
  if (shape.length < 1 || shape.length > 4) invalid(`${cx.op} attn_mask must have rank 1 to 4, got [${shape.join(',')}]`);
  const width = shape[shape.length - 1]!;
  if (width > d.keys) invalid(`${cx.op} attn_mask covers ${width} keys but there are ${d.keys} (past + new)`);
  let bias = mt.dtype === 'bool' ? cx.emit1('Where', [cx.input(3), scalar(cx, 0, 'zero'), scalar(cx, NEG_INF, 'neg_inf')]) : toF32(cx, cx.input(3), mt);
  if (width < d.keys) {
    const fill = cx.newConst(makeTensor('f32', [...shape.slice(0, -1), d.keys - width], () => NEG_INF), 'mask_pad');
    bias = cx.emit1('Concat', [bias, fill], { axis: shape.length - 1 });
  }
  return bias;
}

function attention(cx: NodeContext, opset: number): void {
  const qType = cx.type(0);
  if (!['f32', 'f16', 'bf16'].includes(qType.dtype)) unsupported('dtype', `${cx.op} on ${qType.dtype}; kiln computes attention on float inputs`);
  for (const i of [1, 2]) if (cx.type(i).dtype !== qType.dtype) invalid(`${cx.op} Q is ${qType.dtype} but input ${i} is ${cx.type(i).dtype}`);
  if (cx.has(4) !== cx.has(5)) invalid(`${cx.op} needs both past_key and past_value, or neither`);
  const qHeadsAttr = cx.attrs.int('q_num_heads');
  const kvHeadsAttr = cx.attrs.int('kv_num_heads');
  const q = toHeads(cx, 0, 'Q', qHeadsAttr);
  let k = toHeads(cx, 1, 'K', kvHeadsAttr);
  let v = toHeads(cx, 2, 'V', kvHeadsAttr);
  const [batch, qHeads, qLen, headSize] = cx.values.typeOf(q).shape as number[];
  const [kBatch, kvHeads, newKeys, kHeadSize] = cx.values.typeOf(k).shape as number[];
  const vShape = cx.values.typeOf(v).shape as number[];
  if (kBatch !== batch || vShape[0] !== batch) invalid(`${cx.op} Q, K and V differ in batch size`);
  if (kHeadSize !== headSize) invalid(`${cx.op} Q and K head sizes differ (${headSize} vs ${kHeadSize})`);
  if (vShape[1] !== kvHeads || vShape[2] !== newKeys) invalid(`${cx.op} K [${batch},${kvHeads},${newKeys},..] and V [${vShape.join(',')}] disagree`);
  if (kvHeads! <= 0 || qHeads! % kvHeads! !== 0) invalid(`${cx.op} ${qHeads} query heads cannot share ${kvHeads} kv heads evenly`);

  let past = 0;
  if (cx.has(4)) {
    const pk = staticDims(cx, 4, 'past_key');
    const pv = staticDims(cx, 5, 'past_value');
    if (pk.length !== 4 || pk[0] !== batch || pk[1] !== kvHeads || pk[3] !== headSize || pv.length !== 4 || pv[2] !== pk[2] || pv[3] !== vShape[3])
      invalid(`${cx.op} past_key [${pk.join(',')}] / past_value [${pv.join(',')}] do not match K and V as [B, kv_heads, past, size]`);
    past = pk[2]!;
    k = cx.emit1('Concat', [toF32(cx, cx.input(4), cx.type(4)), k], { axis: 2 });
    v = cx.emit1('Concat', [toF32(cx, cx.input(5), cx.type(5)), v], { axis: 2 });
  }
  const d: Dims = { batch: batch!, qHeads: qHeads!, kvHeads: kvHeads!, qLen: qLen!, headSize: headSize!, vHeadSize: vShape[3]!, keys: past + newKeys!, past };
  const back = (name: string, out: number): void => {
    if (qType.dtype === 'f32') cx.alias(out, name);
    else cx.emit1('Cast', [name], { to: qType.dtype }, cx.output(out) || undefined);
  };
  if (cx.used(1)) back(k, 1);
  if (cx.used(2)) back(v, 2);

  const scale = cx.attrs.float('scale') ?? 1 / Math.sqrt(d.headSize);
  const root = scalar(cx, Math.sqrt(scale), 'scale_sqrt');
  const kT = cx.emit1('Transpose', [cx.emit1('Mul', [k, root])], { perm: [0, 1, 3, 2] });
  let scores = groupedMatMul(cx, cx.emit1('Mul', [q, root]), kT, d, d.qLen, d.keys);
  const stages: string[] = [scores];
  const softcap = cx.attrs.float('softcap', 0);
  if (softcap > 0) {
    const cap = scalar(cx, softcap, 'softcap');
    scores = cx.emit1('Mul', [cx.emit1('Tanh', [cx.emit1('Div', [scores, cap])]), cap]);
  }
  stages.push(scores);
  const bias = attentionBias(cx, d, opset);
  if (bias !== undefined) scores = cx.emit1('Add', [scores, bias]);
  stages.push(scores);
  let probs = cx.emit1('Softmax', [scores], { axis: -1 });
  if (bias !== undefined) {
    // A row with every key masked has softmax 0/0; the spec makes its weights 0 (so Y is 0), not NaN.
    const rowMax = cx.emit1('ReduceMax', [bias], { axes: [-1], keepdims: 1 });
    const masked = cx.emit1('Equal', [rowMax, scalar(cx, NEG_INF, 'neg_inf')]);
    probs = cx.emit1('Where', [masked, scalar(cx, 0, 'zero'), probs]);
  }
  stages.push(probs);

  if (cx.used(3)) {
    const mode = cx.attrs.int('qk_matmul_output_mode', 0);
    if (mode < 0 || mode > 3) invalid(`${cx.op} qk_matmul_output_mode must be 0..3, got ${mode}`);
    back(stages[mode]!, 3);
  }
  let y = groupedMatMul(cx, probs, v, d, d.qLen, d.vHeadSize);
  if (qType.shape.length === 3) {
    y = cx.emit1('Transpose', [y], { perm: [0, 2, 1, 3] });
    y = cx.emit1('Reshape', [y], { shape: [d.batch, d.qLen, d.qHeads * d.vHeadSize] });
  }
  back(y, 0);
}

const ATTRIBUTES = ['is_causal', 'kv_num_heads', 'q_num_heads', 'qk_matmul_output_mode', 'scale', 'softcap', 'softmax_precision'];
/** Sliding-window bounds (onnx#8108), merged after the node tests' commit into the opset then in development. */
const WINDOW_ATTRIBUTES = ['left_window_size', 'right_window_size'];

/** Check the node's attributes against its version's (an unknown one would otherwise be silently ignored). */
function checkNode(cx: NodeContext, known: readonly string[]): void {
  for (const name of cx.attrs.names())
    if (!known.includes(name)) unsupported('attribute', `${cx.op} (opset ${cx.opset}) attribute '${name}' is not one kiln knows for this version`);
  const p = cx.attrs.int('softmax_precision');
  // FLOAT, FLOAT16, DOUBLE, BFLOAT16: f32 is at least as precise as each but double, which kiln narrows anyway.
  if (p !== undefined && ![1, 10, 11, 16].includes(p)) invalid(`${cx.op} softmax_precision ${p} is not a float type`);
  if (p === 11) cx.note(`${cx.op} softmax_precision double computed in f32`);
}

export const ATTENTION_RULES: OpRule[] = [
  ...rules(
    'Attention',
    [23, 23, (cx) => {
      if (cx.has(6)) invalid(`${cx.op} (opset 23) takes at most 6 inputs; nonpad_kv_seqlen arrived in opset 24`);
      checkNode(cx, ATTRIBUTES);
      attention(cx, 23);
    }],
    [24, 27, (cx) => {
      checkNode(cx, ATTRIBUTES);
      attention(cx, 24);
    }],
    [28, undefined, (cx) => {
      checkNode(cx, [...ATTRIBUTES, ...WINDOW_ATTRIBUTES]);
      attention(cx, 28);
    }],
  ),
];
