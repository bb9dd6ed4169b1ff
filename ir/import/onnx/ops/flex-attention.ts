// FlexAttention of domain ai.onnx.preview (version 1), decomposed the way its function body computes it:
//
//   scores = (Q * sqrt(scale)) @ (K * sqrt(scale))^T       in f32; scale defaults to 1/sqrt(head_size)
//   scores = score_mod(Cast(scores, softmax_precision))    when the score_mod graph is given
//   probs  = prob_mod(Softmax(scores, axis=-1))            when the prob_mod graph is given
//   Y      = probs @ V                                     in softmax_precision, then cast to V's type
//
// softmax_precision defaults to float for every input type but double (which kiln holds as f32 anyway), so
// half-precision inputs are computed in f32 and rounded once, as the function body does. The modifier graphs take
// one rank-4 tensor and return one of the same shape and type; they are imported inline, each name they define
// suffixed with the node's output and the attribute, so modifier graphs that reuse names (two FlexAttention nodes
// with the same graphs, or a node's score_mod and prob_mod) do not clash.
//
// Grouped-query heads (Hq a multiple of Hkv, query head h reading kv head h / (Hq / Hkv)) need no copies of K and
// V: Q's [B, Hq, L, E] is viewed as [B, Hkv, G*L, E] and multiplied by each kv head once, as in attention.ts.
import { formatShape, isStaticShape } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { DType } from '../../../dtype.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';
import { graphAttr, inlineGraph, renameDefined } from '../subgraph.js';

const ATTRIBUTES = ['scale', 'score_mod', 'prob_mod', 'softmax_precision'];
const FLOATS: readonly DType[] = ['f32', 'f16', 'bf16'];
/** softmax_precision (an ONNX element type) as the kiln dtype it computes in: double is narrowed to f32. */
const PRECISION: Readonly<Record<number, DType>> = { 1: 'f32', 10: 'f16', 11: 'f32', 16: 'bf16' };

interface Heads {
  readonly batch: number;
  readonly qHeads: number;
  readonly kvHeads: number;
}

/** `a` @ `b` per head, `a` with Hq heads and `b` with Hkv: the query heads of a group share one product. */
function groupedMatMul(cx: NodeContext, a: string, b: string, h: Heads): string {
  const group = h.qHeads / h.kvHeads;
  if (group === 1) return cx.emit1('MatMul', [a, b]);
  const [, , rows] = cx.values.typeOf(a).shape as number[];
  const cols = cx.values.typeOf(b).shape[3] as number;
  const product = cx.emit1('MatMul', [cx.emit1('Reshape', [a], { shape: [h.batch, h.kvHeads, group * rows!, -1] }), b]);
  return cx.emit1('Reshape', [product], { shape: [h.batch, h.qHeads, rows!, cols] });
}

/** Import the modifier graph in attribute `attr` inline on `x`; returns the name of its result. */
function applyModifier(cx: NodeContext, attr: string, x: string): string {
  const g = graphAttr(cx, attr);
  if (g.input.length !== 1 || g.output.length !== 1)
    invalid(`${cx.op} ${attr} must take one input and return one output, got ${g.input.length} and ${g.output.length}`);
  const copy = renameDefined(g, `__${cx.output(0) || cx.op}_${attr}`);
  cx.values.alias(copy.input[0]!.name || invalid(`the input of ${cx.op}'s ${attr} has no name`), x);
  const out = inlineGraph(cx, copy, attr)[0]!;
  const want = cx.values.typeOf(x);
  const got = cx.values.typeOf(out);
  if (got.dtype !== want.dtype || formatShape(got.shape) !== formatShape(want.shape))
    invalid(`${cx.op} ${attr} must return its input's type ${want.dtype}${formatShape(want.shape)}, but returns ${got.dtype}${formatShape(got.shape)}`);
  return out;
}

function flexAttention(cx: NodeContext): void {
  for (const name of cx.attrs.names())
    if (!ATTRIBUTES.includes(name)) unsupported('attribute', `${cx.op} attribute '${name}' is not one the ai.onnx.preview ${cx.op} (version 1) has`);
  if (cx.inputCount !== 3 || ![0, 1, 2].every((i) => cx.has(i))) invalid(`${cx.op} takes exactly the inputs Q, K and V`);
  const [q, k, v] = [0, 1, 2].map((i) => cx.type(i));
  if (!FLOATS.includes(q!.dtype)) unsupported('dtype', `${cx.op} on ${q!.dtype}; kiln computes attention on float inputs`);
  if (k!.dtype !== q!.dtype || v!.dtype !== q!.dtype) invalid(`${cx.op} Q, K and V must share one type, got ${q!.dtype}, ${k!.dtype} and ${v!.dtype}`);
  for (const [t, what] of [[q!, 'Q'], [k!, 'K'], [v!, 'V']] as const) {
    if (t.shape.length !== 4) invalid(`${cx.op} ${what} must be rank 4 [batch, heads, length, size], got ${formatShape(t.shape)}`);
    if (!isStaticShape(t.shape))
      unsupported('dynamic', `${cx.op} ${what} has shape ${formatShape(t.shape)}; kiln needs static shapes here (bind the symbols with the importer's symbols option)`);
  }
  const [batch, qHeads, , headSize] = q!.shape as number[];
  const [kBatch, kvHeads, keys, kHeadSize] = k!.shape as number[];
  const [vBatch, vHeads, vKeys] = v!.shape as number[];
  if (kBatch !== batch || vBatch !== batch) invalid(`${cx.op} Q, K and V differ in batch size`);
  if (kHeadSize !== headSize) invalid(`${cx.op} Q and K head sizes differ (${headSize} vs ${kHeadSize})`);
  if (vHeads !== kvHeads || vKeys !== keys) invalid(`${cx.op} K ${formatShape(k!.shape)} and V ${formatShape(v!.shape)} differ in heads or length`);
  if (kvHeads! <= 0 || qHeads! % kvHeads! !== 0) invalid(`${cx.op} ${qHeads} query heads cannot share ${kvHeads} kv heads evenly`);
  const heads: Heads = { batch: batch!, qHeads: qHeads!, kvHeads: kvHeads! };

  const code = cx.attrs.int('softmax_precision');
  const precision = code === undefined ? 'f32' : (PRECISION[code] ?? invalid(`${cx.op} softmax_precision ${code} is not a float type`));
  if (code === 11) cx.note(`${cx.op} softmax_precision double computed in f32`);
  const f32 = (i: number): string => (cx.type(i).dtype === 'f32' ? cx.input(i) : cx.emit1('Cast', [cx.input(i)], { to: 'f32' }));
  const scale = cx.attrs.float('scale') ?? 1 / Math.sqrt(headSize!);
  const root = cx.newConst(makeTensor('f32', [], [Math.sqrt(scale)]), 'scale_sqrt');
  const kT = cx.emit1('Transpose', [cx.emit1('Mul', [f32(1), root])], { perm: [0, 1, 3, 2] });
  let scores = groupedMatMul(cx, cx.emit1('Mul', [f32(0), root]), kT, heads);
  if (precision !== 'f32') scores = cx.emit1('Cast', [scores], { to: precision });
  if (cx.attrs.raw('score_mod')) scores = applyModifier(cx, 'score_mod', scores);
  let probs = cx.emit1('Softmax', [scores], { axis: -1 });
  if (cx.attrs.raw('prob_mod')) probs = applyModifier(cx, 'prob_mod', probs);
  const values = v!.dtype === precision ? cx.input(2) : cx.emit1('Cast', [cx.input(2)], { to: precision });
  const y = groupedMatMul(cx, probs, values, heads);
  if (precision === v!.dtype) cx.alias(0, y);
  else cx.emit1('Cast', [y], { to: v!.dtype }, cx.output(0));
}

/** Rules of domain ai.onnx.preview, keyed by that domain's version (1, the only one). */
export const FLEX_ATTENTION_RULES: OpRule[] = rules('FlexAttention', [1, 1, flexAttention]);
