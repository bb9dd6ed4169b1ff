// Indexing and rearrangement ops, per ONNX version:
//   - onto IR ops of their own: GatherElements (11+), GatherND (11; 12+ with batch_dims), ScatterElements (11;
//     reduction add/mul from 16, max/min from 18) and its old name Scatter (9-10), ScatterND (same reduction
//     steps), TensorScatter (24), OneHot (9-10: negative indices select nothing; 11+: they count from the end),
//     TopK (k an attribute in 1-9, a constant input from 10; largest/sorted from 11), ReverseSequence (10);
//   - decomposed: Hardmax = ArgMax, Equal against an iota, Cast (1-12 over the input flattened to 2-D at axis,
//     13+ along axis), DepthToSpace/SpaceToDepth = Reshape, Transpose, Reshape, CenterCropPad = Slice then Pad;
//   - data-dependent outputs (indexing-fold.ts): Compress with a known condition is a Gather, EyeLike of a
//     static shape, NonZero and Unique of known inputs are folded; otherwise they are refused.
import type { Attrs } from '../../../graph.js';
import { isStaticDim, isStaticShape } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, direct, rules } from '../rule.js';
import { FOLD_RULES } from './indexing-fold.js';

const NONE = ['none'];
const ADD_MUL = ['none', 'add', 'mul'];
const ALL_REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

/** ScatterElements/ScatterND with the reductions this opset defines. */
function scatter(cx: NodeContext, irOp: 'ScatterElements' | 'ScatterND', allowed: readonly string[]): void {
  const reduction = cx.attrs.string('reduction', 'none');
  if (!allowed.includes(reduction))
    invalid(`${cx.op} in opset ${cx.opset} takes reduction ${allowed.map((r) => `'${r}'`).join(', ')}, not '${reduction}'`);
  const attrs: Attrs = irOp === 'ScatterElements' ? { axis: cx.attrs.int('axis', 0), reduction } : { reduction };
  cx.emitOutputs(irOp, [cx.input(0), cx.input(1), cx.input(2)], attrs);
}

function oneHot(cx: NodeContext, negative: boolean): void {
  const depth = Math.trunc(cx.constScalar(1, 'depth') ?? invalid('OneHot needs its depth input'));
  if (!(depth >= 1)) invalid(`OneHot depth must be at least 1, got ${depth}`);
  cx.emitOutputs('OneHot', [cx.input(0), cx.input(2)], { depth, axis: cx.attrs.int('axis', -1), negative: negative ? 1 : 0 });
}

/** TopK: k from the attribute (1-9) or the constant input K (10+); largest and sorted exist from 11. */
function topK(cx: NodeContext, kFromInput: boolean, flags: boolean): void {
  const k = kFromInput ? cx.constIntScalar(1, 'K') : cx.attrs.int('k');
  if (k === undefined) invalid(`TopK needs ${kFromInput ? 'its K input' : "attribute 'k'"}`);
  const attrs: Attrs = { k: k!, axis: cx.attrs.int('axis', -1) };
  if (flags) Object.assign(attrs, { largest: cx.attrs.int('largest', 1), sorted: cx.attrs.int('sorted', 1) });
  cx.emitOutputs('TopK', [cx.input(0)], attrs);
}

/** Hardmax along `axis` of `x`: 1 at the first largest element (NaN counting as largest), 0 elsewhere. */
function hardmaxAlong(cx: NodeContext, x: string, axis: number, output?: string): string {
  const t = cx.values.typeOf(x);
  const len = t.shape[axis]!;
  if (!isStaticDim(len)) return unsupported('dynamic', `Hardmax along a symbolic axis (${len}) of '${cx.input(0)}'`);
  const arg = cx.emit1('ArgMax', [x], { axis, keepdims: 1 });
  const iota = cx.newConst(makeTensor('i32', t.shape.map((_, a) => (a === axis ? len : 1)), (i) => i), 'iota');
  return cx.emit1('Cast', [cx.emit1('Equal', [arg, iota])], { to: t.dtype }, output);
}

/** Hardmax 1-12 works on the input flattened to [outer, inner] at axis (default 1); 13+ along axis (default -1). */
function hardmax(cx: NodeContext, flatten: boolean): void {
  const x = cx.type(0);
  const r = x.shape.length;
  const given = cx.attrs.int('axis', flatten ? 1 : -1);
  const axis = given < 0 ? given + r : given;
  if (axis < 0 || axis >= Math.max(r, 1)) invalid(`Hardmax axis ${given} is out of range for rank ${r}`);
  // Flattening at the last axis leaves it alone: the two definitions agree there.
  if (!flatten || axis === r - 1) return void hardmaxAlong(cx, cx.input(0), axis, cx.output(0));
  const flat = cx.emit1('Flatten', [cx.input(0)], { axis });
  cx.emitOutputs('Reshape', [hardmaxAlong(cx, flat, 1)], { shape: [...x.shape] });
}

/** [N, C, H, W] with static C, H, W (N may be symbolic). */
function image(cx: NodeContext): { n: number | string; c: number; h: number; w: number; b: number } {
  const shape = cx.type(0).shape;
  if (shape.length !== 4) invalid(`${cx.op} needs a 4-D input [N, C, H, W], got [${shape.join(',')}]`);
  const [n, c, h, w] = shape as [number | string, number | string, number | string, number | string];
  if (!isStaticShape([c, h, w])) unsupported('dynamic', `${cx.op} of '${cx.input(0)}' [${shape.join(',')}] needs static C, H and W`);
  const b = cx.attrs.int('blocksize') ?? invalid(`${cx.op} needs attribute 'blocksize'`);
  if (b < 1) invalid(`${cx.op} blocksize must be at least 1, got ${b}`);
  return { n, c: c as number, h: h as number, w: w as number, b };
}

/** Reshape -> Transpose -> Reshape: a block rearrangement. */
function rearrange(cx: NodeContext, split: (number | string)[], perm: number[], shape: (number | string)[]): void {
  const t = cx.emit1('Transpose', [cx.emit1('Reshape', [cx.input(0)], { shape: split })], { perm });
  cx.emitOutputs('Reshape', [t], { shape });
}

/** DepthToSpace: DCR (depth, column, row: the only mode before 11, the default after) or CRD. */
function depthToSpace(cx: NodeContext, withMode: boolean): void {
  const { n, c, h, w, b } = image(cx);
  const mode = withMode ? cx.attrs.string('mode', 'DCR') : 'DCR';
  if (mode !== 'DCR' && mode !== 'CRD') invalid(`DepthToSpace mode must be DCR or CRD, got '${mode}'`);
  if (c % (b * b) !== 0) invalid(`DepthToSpace: ${c} channels do not divide into blocks of ${b}x${b}`);
  const d = c / (b * b);
  if (mode === 'DCR') rearrange(cx, [n, b, b, d, h, w], [0, 3, 4, 1, 5, 2], [n, d, h * b, w * b]);
  else rearrange(cx, [n, d, b, b, h, w], [0, 1, 4, 2, 5, 3], [n, d, h * b, w * b]);
}

function spaceToDepth(cx: NodeContext): void {
  const { n, c, h, w, b } = image(cx);
  if (h % b !== 0 || w % b !== 0) invalid(`SpaceToDepth: spatial size ${h}x${w} does not divide into blocks of ${b}`);
  rearrange(cx, [n, c, h / b, b, w / b, b], [0, 3, 5, 1, 2, 4], [n, c * b * b, h / b, w / b]);
}

/**
 * CenterCropPad: each listed axis is cropped (a centred Slice, the odd element dropped at the end) or padded
 * with zeros (a centred Pad, the odd element added at the end) to the requested size, as ONNX's reference does.
 */
function centerCropPad(cx: NodeContext): void {
  const shape = cx.type(0).shape;
  const r = shape.length;
  const sizes = cx.constInts(1, 'shape') ?? invalid('CenterCropPad needs its shape input');
  const axes = (cx.attrs.ints('axes') ?? shape.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  if (axes.some((a) => a < 0 || a >= r) || new Set(axes).size !== axes.length) invalid(`CenterCropPad axes [${cx.attrs.ints('axes')}] are not distinct axes of rank ${r}`);
  if (sizes.length !== axes.length) invalid(`CenterCropPad shape [${sizes.join(',')}] needs one size per axis (${axes.length})`);
  const crop = { starts: [] as number[], ends: [] as number[], axes: [] as number[] };
  const [padBegin, padEnd] = [new Array<number>(r).fill(0), new Array<number>(r).fill(0)];
  axes.forEach((a, k) => {
    const dim = shape[a]!;
    const want = sizes[k]!;
    if (want < 0) invalid(`CenterCropPad size ${want} for axis ${a} is negative`);
    if (!isStaticDim(dim)) return unsupported('dynamic', `CenterCropPad of '${cx.input(0)}' needs a static axis ${a}, got [${shape.join(',')}]`);
    const d = Math.abs(dim - want);
    const begin = Math.floor(d / 2);
    if (want < dim) {
      crop.starts.push(begin);
      crop.ends.push(begin + want);
      crop.axes.push(a);
    } else [padBegin[a], padEnd[a]] = [begin, d - begin];
  });
  const padded = padBegin.some((p, a) => p > 0 || padEnd[a]! > 0);
  let v = cx.input(0);
  if (crop.axes.length) v = cx.emit1('Slice', [v], crop, padded ? undefined : cx.output(0));
  if (padded) v = cx.emit1('Pad', [v], { pads: [...padBegin, ...padEnd] }, cx.output(0));
  if (v === cx.input(0)) cx.alias(0, v);
}

export const INDEXING_RULES: OpRule[] = [
  ...rules('GatherElements', [11, undefined, direct()]),
  ...rules(
    'GatherND',
    [11, 11, (cx) => cx.emitOutputs('GatherND', [cx.input(0), cx.input(1)])],
    [12, undefined, (cx) => cx.emitOutputs('GatherND', [cx.input(0), cx.input(1)], { batch_dims: cx.attrs.int('batch_dims', 0) })],
  ),
  ...rules('Scatter', [9, 10, (cx) => scatter(cx, 'ScatterElements', NONE)]),
  ...rules(
    'ScatterElements',
    [11, 15, (cx) => scatter(cx, 'ScatterElements', NONE)],
    [16, 17, (cx) => scatter(cx, 'ScatterElements', ADD_MUL)],
    [18, undefined, (cx) => scatter(cx, 'ScatterElements', ALL_REDUCTIONS)],
  ),
  ...rules(
    'ScatterND',
    [11, 15, (cx) => scatter(cx, 'ScatterND', NONE)],
    [16, 17, (cx) => scatter(cx, 'ScatterND', ADD_MUL)],
    [18, undefined, (cx) => scatter(cx, 'ScatterND', ALL_REDUCTIONS)],
  ),
  ...rules('TensorScatter', [24, undefined, direct()]),
  ...rules('OneHot', [9, 10, (cx) => oneHot(cx, false)], [11, undefined, (cx) => oneHot(cx, true)]),
  ...rules('TopK', [1, 9, (cx) => topK(cx, false, false)], [10, 10, (cx) => topK(cx, true, false)], [11, undefined, (cx) => topK(cx, true, true)]),
  ...rules('Hardmax', [1, 12, (cx) => hardmax(cx, true)], [13, undefined, (cx) => hardmax(cx, false)]),
  ...rules('ReverseSequence', [10, undefined, direct()]),
  ...rules('DepthToSpace', [1, 10, (cx) => depthToSpace(cx, false)], [11, undefined, (cx) => depthToSpace(cx, true)]),
  ...rules('SpaceToDepth', [1, undefined, spaceToDepth]),
  ...rules('CenterCropPad', [18, undefined, centerCropPad]),
  ...FOLD_RULES,
];
