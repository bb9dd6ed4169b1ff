// The transformer building blocks ONNX added as ops in opsets 23-28, decomposed into IR ops as their function
// bodies define them (each decomposition is exact; the scheduler fuses the elementwise chains):
//   RMSNormalization (23)     x / sqrt(mean(x^2 over axes [axis, rank)) + epsilon) * scale, statistics in stash_type
//   RotaryEmbedding (23)      rotate (x1, x2) pairs by cos/sin caches (gathered by position_ids when given);
//                             pairs are halves of the rotated part, or adjacent elements when interleaved
//   CausalConvWithState (27)  depthwise causal conv1d over [past_state | input], optional SiLU, and the last K-1
//                             columns of that concatenation as present_state
//   SwiGLU (28)               a * sigmoid(alpha * a) * b
// LinearAttention (27) is a recurrence over the steps; it maps onto kiln's LinearAttention op (one f32 kernel).
import { isStaticShape } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { ONNX_DTYPE, runtimeDType } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { UPDATE_RULES } from '../../../ops/linear-attention.js';
import { type OpRule, rules } from '../rule.js';

function staticShape(cx: NodeContext, i: number, what: string): number[] {
  const s = cx.type(i).shape;
  if (!isStaticShape(s))
    unsupported('dynamic', `${cx.op} ${what} '${cx.input(i)}' has shape [${s.join(',')}]; kiln needs static shapes here (bind the symbols with the importer's symbols option)`);
  return s as number[];
}

/** An attribute the rule does not read would otherwise be silently ignored. */
function known(cx: NodeContext, names: readonly string[]): void {
  for (const name of cx.attrs.names()) if (!names.includes(name)) unsupported('attribute', `${cx.op} (opset ${cx.opset}) attribute '${name}' is not one kiln knows`);
}

const castTo = (cx: NodeContext, name: string, to: string): string => (cx.values.typeOf(name).dtype === to ? name : cx.emit1('Cast', [name], { to }));

function rmsNormalization(cx: NodeContext): void {
  known(cx, ['axis', 'epsilon', 'stash_type']);
  const x = cx.type(0);
  const rank = x.shape.length;
  const given = cx.attrs.int('axis', -1);
  const axis = given < 0 ? given + rank : given;
  if (axis < 0 || axis >= rank) invalid(`${cx.op} axis ${given} is out of range for rank ${rank}`);
  const stash = runtimeDType(cx.attrs.int('stash_type', ONNX_DTYPE.FLOAT), `${cx.op} stash_type`);
  const xs = castTo(cx, cx.input(0), stash);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const meanSquare = cx.emit1('ReduceMean', [cx.emit1('Mul', [xs, xs])], { axes, keepdims: 1 });
  const eps = cx.newConst(makeTensor(stash, [], [cx.attrs.float('epsilon', 1e-5)]), 'epsilon');
  const normed = cx.emit1('Div', [xs, cx.emit1('Sqrt', [cx.emit1('Add', [meanSquare, eps])])]);
  cx.emitOutputs('Mul', [castTo(cx, normed, x.dtype), cx.input(1)]);
}

/**
 * RotaryEmbedding on [B, S, H, D] rows (4-D input is [B, H, S, D]; 3-D is [B, S, H*D] with num_heads). The
 * caches hold D_rot/2 angles per position: [max_pos, >= D_rot/2] gathered by position_ids [B, S], or [B, S, ..]
 * directly without them.
 */
function rotaryEmbedding(cx: NodeContext): void {
  known(cx, ['interleaved', 'num_heads', 'rotary_embedding_dim']);
  const shape = staticShape(cx, 0, 'input');
  let rows: string;
  if (shape.length === 4) rows = cx.emit1('Transpose', [cx.input(0)], { perm: [0, 2, 1, 3] });
  else if (shape.length === 3) {
    const heads = cx.attrs.int('num_heads', 0);
    if (heads <= 0 || shape[2]! % heads !== 0) invalid(`${cx.op} with 3-D input needs num_heads dividing the hidden size ${shape[2]}, got ${heads}`);
    rows = cx.emit1('Reshape', [cx.input(0)], { shape: [shape[0]!, shape[1]!, heads, shape[2]! / heads] });
  } else return invalid(`${cx.op} input must be 3-D or 4-D, got [${shape.join(',')}]`);
  const [b, s, h, d] = cx.values.typeOf(rows).shape as [number, number, number, number];
  const rot = cx.attrs.int('rotary_embedding_dim', 0) || d;
  if (rot % 2 !== 0 || rot > d) invalid(`${cx.op} rotary_embedding_dim ${rot} must be even and at most the head size ${d}`);
  const half = rot / 2;

  // cos/sin as [B, S, 1, half] (one more trailing 1 when interleaved, to pair with [.., half, 2] rows).
  const interleaved = cx.attrs.int('interleaved', 0) !== 0;
  const angles = (i: number, what: string): string => {
    const cache = staticShape(cx, i, what);
    let t = cx.input(i);
    if (cx.has(3)) {
      if (cache.length !== 2) invalid(`${cx.op} ${what} must be [max_position, D/2] with position_ids, got [${cache.join(',')}]`);
      t = cx.emit1('Gather', [t, cx.input(3)], { axis: 0 });
    } else if (cache.length !== 3 || cache[0] !== b || cache[1] !== s) invalid(`${cx.op} ${what} must be [${b}, ${s}, D/2] without position_ids, got [${cache.join(',')}]`);
    if (cache[cache.length - 1]! < half) invalid(`${cx.op} ${what} holds ${cache[cache.length - 1]} angles per position; ${half} are needed`);
    if (cache[cache.length - 1]! > half) t = cx.emit1('Slice', [t], { starts: [0], ends: [half], axes: [2] });
    return cx.emit1('Reshape', [t], { shape: [b, s, 1, half, ...(interleaved ? [1] : [])] });
  };
  const cos = angles(1, 'cos_cache');
  const sin = angles(2, 'sin_cache');

  const [toRotate, passThrough] = rot === d ? [rows, undefined] : cx.emit('Split', [rows], { axis: -1, split: [rot, d - rot] });
  const [x1, x2] = interleaved
    ? cx.emit('Split', [cx.emit1('Reshape', [toRotate!], { shape: [b, s, h, half, 2] })], { axis: -1, split: [1, 1] })
    : cx.emit('Split', [toRotate!], { axis: -1, split: [half, half] });
  const real = cx.emit1('Sub', [cx.emit1('Mul', [cos, x1!]), cx.emit1('Mul', [sin, x2!])]);
  const imaginary = cx.emit1('Add', [cx.emit1('Mul', [sin, x1!]), cx.emit1('Mul', [cos, x2!])]);
  let rotated = cx.emit1('Concat', [real, imaginary], { axis: -1 });
  if (interleaved) rotated = cx.emit1('Reshape', [rotated], { shape: [b, s, h, rot] });
  const joined = passThrough === undefined ? rotated : cx.emit1('Concat', [rotated, passThrough], { axis: -1 });
  if (shape.length === 4) cx.emitOutputs('Transpose', [joined], { perm: [0, 2, 1, 3] });
  else cx.emitOutputs('Reshape', [joined], { shape });
}

const ACTIVATIONS = ['none', 'silu', 'swish'];

function causalConvWithState(cx: NodeContext): void {
  known(cx, ['activation']);
  const x = cx.type(0);
  const [batch, channels, length] = staticShape(cx, 0, 'input');
  const w = staticShape(cx, 1, 'weight');
  if (x.shape.length !== 3) unsupported('attribute', `${cx.op} on a rank-${x.shape.length} input; kiln maps the 1-D form [B, C, L]`);
  if (w.length !== 3 || w[0] !== channels || w[1] !== 1) invalid(`${cx.op} weight must be [${channels}, 1, K] (depthwise), got [${w.join(',')}]`);
  const activation = cx.attrs.string('activation', 'none');
  if (!ACTIVATIONS.includes(activation)) invalid(`${cx.op} activation must be one of ${ACTIVATIONS.join(', ')}, got '${activation}'`);
  const kept = w[2]! - 1;
  // Computed in f32 (the SiLU is, by the spec; the conv too, so half inputs need no shader-f16 conv kernel).
  const f32 = (i: number): string => castTo(cx, cx.input(i), 'f32');
  let state: string;
  if (cx.has(3)) {
    const p = staticShape(cx, 3, 'past_state');
    if (p.length !== 3 || p[0] !== batch || p[1] !== channels || p[2] !== kept) invalid(`${cx.op} past_state must be [${batch}, ${channels}, ${kept}], got [${p.join(',')}]`);
    state = f32(3);
  } else state = cx.newConst(makeTensor('f32', [batch!, channels!, kept], () => 0), 'zero_state');
  const padded = kept === 0 ? f32(0) : cx.emit1('Concat', [state, f32(0)], { axis: 2 });
  let y = cx.emit1('Conv', [padded, f32(1), ...(cx.has(2) ? [f32(2)] : [])], { group: channels! });
  if (activation !== 'none') y = cx.emit1('Mul', [y, cx.emit1('Sigmoid', [y])]);
  const back = (name: string, k: number): void => {
    if (x.dtype === 'f32') cx.alias(k, name);
    else cx.emit1('Cast', [name], { to: x.dtype }, cx.output(k) || undefined);
  };
  back(y, 0);
  if (cx.used(1)) back(cx.emit1('Slice', [padded], { starts: [length!], ends: [length! + kept], axes: [2] }), 1);
}

/** LinearAttention: inputs cast to f32, zeros for a missing past_state, results cast back. */
function linearAttention(cx: NodeContext): void {
  known(cx, ['kv_num_heads', 'q_num_heads', 'scale', 'update_rule']);
  const rule = cx.attrs.string('update_rule', 'gated_delta');
  if (!UPDATE_RULES.includes(rule as (typeof UPDATE_RULES)[number])) invalid(`${cx.op} update_rule must be one of ${UPDATE_RULES.join(', ')}, got '${rule}'`);
  const q = staticShape(cx, 0, 'query');
  const k = staticShape(cx, 1, 'key');
  const v = staticShape(cx, 2, 'value');
  if (q.length !== 3 || k.length !== 3 || v.length !== 3) unsupported('attribute', `${cx.op} with inputs of rank ${q.length}; kiln maps the 3-D form [B, T, heads*dim]`);
  const qHeads = cx.attrs.int('q_num_heads', 0);
  const kvHeads = cx.attrs.int('kv_num_heads', 0);
  if (qHeads <= 0 || kvHeads <= 0) invalid(`${cx.op} needs attributes q_num_heads and kv_num_heads (> 0)`);
  const keyDim = q[2]! / qHeads;
  const valueDim = v[2]! / kvHeads;
  const f32 = (i: number): string => castTo(cx, cx.input(i), 'f32');
  const state = cx.has(3) ? f32(3) : cx.newConst(makeTensor('f32', [q[0]!, kvHeads, keyDim, valueDim], () => 0), 'zero_state');
  const gated = rule.startsWith('gated');
  const delta = rule.endsWith('delta');
  if (gated && !cx.has(4)) invalid(`${cx.op} update_rule '${rule}' needs the decay input (input 4)`);
  if (delta && !cx.has(5)) invalid(`${cx.op} update_rule '${rule}' needs the beta input (input 5)`);
  // Omitted operands stay '' at their position; a rule that does not use decay or beta ignores the input.
  const inputs = [f32(0), f32(1), f32(2), state, gated ? f32(4) : '', delta ? f32(5) : ''];
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const scale = cx.attrs.float('scale') ?? 1 / Math.sqrt(keyDim);
  const [y, present] = cx.emit('LinearAttention', inputs, { q_num_heads: qHeads, kv_num_heads: kvHeads, update_rule: rule, scale });
  const back = (name: string, k: number, dtype: string): void => {
    if (dtype === 'f32') cx.alias(k, name);
    else cx.emit1('Cast', [name], { to: dtype }, cx.output(k) || undefined);
  };
  back(y!, 0, cx.type(0).dtype);
  if (cx.used(1)) back(present!, 1, (cx.has(3) ? cx.type(3) : cx.type(0)).dtype);
}

function swiglu(cx: NodeContext): void {
  known(cx, ['alpha']);
  const alpha = cx.attrs.float('alpha', 1);
  const a = cx.input(0);
  const scaled = alpha === 1 ? a : cx.emit1('Mul', [a, cx.newConst(makeTensor(cx.type(0).dtype, [], [alpha]), 'alpha')]);
  cx.emitOutputs('Mul', [cx.emit1('Mul', [a, cx.emit1('Sigmoid', [scaled])]), cx.input(1)]);
}

export const TRANSFORMER_RULES: OpRule[] = [
  ...rules('RMSNormalization', [23, undefined, rmsNormalization]),
  ...rules('RotaryEmbedding', [23, undefined, rotaryEmbedding]),
  ...rules('CausalConvWithState', [27, undefined, causalConvWithState]),
  ...rules('LinearAttention', [27, undefined, linearAttention]),
  ...rules('SwiGLU', [28, undefined, swiglu]),
];
