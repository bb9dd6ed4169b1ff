// Shape ops. kiln compiles static shapes, so every shape-like operand becomes an attribute (Reshape{shape},
// Expand{shape}, Squeeze/Unsqueeze{axes}) and must be known at import time; Shape, Size, ConstantOfShape, Range
// and Constant produce known values outright (from static dims or known inputs), which later rules fold into
// their attributes.
import { dimProduct } from '../../../dim.js';
import { type Dim, isStaticDim } from '../../../shape.js';
import { type Tensor, makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { requireKnown } from '../known.js';
import { type OpRule, clampI32, direct, rules } from '../rule.js';
import { decodeSparse } from '../sparse.js';
import { tensorFromProto } from '../tensor-proto.js';

const clampDim = (d: Dim): Dim => (typeof d === 'number' ? clampI32(d) : d);

const i64 = (values: readonly number[], shape: readonly number[] = [values.length]): Tensor => makeTensor('i64', shape, values);

function reshape(cx: NodeContext, allowZero: boolean): void {
  const shape = cx.constDims(1, 'shape') ?? invalid('Reshape needs its shape input');
  cx.emitOutputs('Reshape', [cx.input(0)], { shape: shape.map(clampDim), ...(allowZero ? { allowzero: 1 } : {}) });
}

/** Squeeze/Unsqueeze axes: an attribute before opset 13, an input from 13. */
function axesOp(cx: NodeContext, fromInput: boolean, required: boolean): void {
  const axes = fromInput ? cx.constInts(1, 'axes') : cx.attrs.ints('axes');
  if (required && axes === undefined) invalid(`${cx.op} needs axes`);
  cx.emitOutputs(cx.op, [cx.input(0)], axes === undefined ? {} : { axes });
}

/** Shape (with opset 15's start/end slicing): known when the selected dims are static. */
function shapeOf(cx: NodeContext, sliced: boolean): void {
  const dims = cx.type(0).shape;
  const r = dims.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = sliced ? clamp(cx.attrs.int('start', 0)) : 0;
  const end = sliced && cx.attrs.has('end') ? clamp(cx.attrs.int('end', r)) : r;
  const picked = dims.slice(start, Math.max(start, end));
  // Symbolic dims make a symbolic shape value, which the shape arithmetic after it folds (sym-fold.ts).
  if (picked.every(isStaticDim)) cx.setConst(0, i64(picked as number[]));
  else cx.setSym(0, { dtype: 'i64', shape: [picked.length], dims: picked });
}

function size(cx: NodeContext): void {
  const n = dimProduct(cx.type(0).shape);
  if (typeof n === 'number') cx.setConst(0, i64([n], []));
  else cx.setSym(0, { dtype: 'i64', shape: [], dims: [n] });
}

function constantOfShape(cx: NodeContext): void {
  const dims = cx.constDims(0, 'shape') ?? invalid('ConstantOfShape needs its shape input');
  const proto = cx.attrs.tensor('value');
  const fill = proto ? tensorFromProto(proto, `ConstantOfShape value`) : makeTensor('f32', [1], [0]);
  if (fill.data.length !== 1) invalid(`ConstantOfShape value must hold one element, got [${fill.shape.join(',')}]`);
  if (!dims.every(isStaticDim)) {
    // A symbolic size: the fill value broadcast at run time.
    cx.emitOutputs('Expand', [cx.newConst(makeTensor(fill.dtype, [], [fill.data[0]!]), 'fill')], { shape: dims });
    return;
  }
  const shape = dims as number[];
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) invalid(`ConstantOfShape shape [${shape.join(',')}] has a negative dim`);
  if (shape.reduce((a, b) => a * b, 1) > 2 ** 28) unsupported('attribute', `ConstantOfShape of shape [${shape.join(',')}] is too large to fold`);
  cx.setConst(0, makeTensor(fill.dtype, shape, () => fill.data[0]!));
}

function range(cx: NodeContext): void {
  (['start', 'limit', 'delta'] as const).forEach((what, i) => requireKnown(cx, i, what));
  const start = cx.requireConst(0, 'start');
  const [s, limit, delta] = (['start', 'limit', 'delta'] as const).map((what, i) => cx.constScalar(i, what) ?? invalid(`Range needs its ${what} input (input ${i})`));
  if (delta === 0) invalid('Range delta is 0');
  const n = Math.max(Math.ceil((limit - s) / delta), 0);
  if (!Number.isFinite(n)) invalid(`Range from ${s} to ${limit} by ${delta} has no finite length`);
  if (n > 2 ** 28) unsupported('attribute', `Range of ${n} elements is too large to fold`);
  cx.setConst(0, makeTensor(start.dtype, [n], (i) => s + i * delta));
}

/** Constant: value (tensor), sparse_value (11), or value_float(s)/value_int(s) (12). Strings are not tensors kiln has. */
function constant(cx: NodeContext): void {
  const a = cx.attrs;
  const name = cx.attrs.names()[0] ?? invalid('Constant needs a value attribute');
  const what = `Constant '${cx.output(0)}'`;
  let t: Tensor;
  if (name === 'value') t = tensorFromProto(a.tensor('value') ?? invalid(`${what}: value is not a tensor`), what);
  else if (name === 'sparse_value') t = decodeSparse(a.raw('sparse_value')!.sparse_tensor ?? invalid(`${what}: empty sparse_value`), what);
  else if (name === 'value_float') t = makeTensor('f32', [], [a.float('value_float')!]);
  else if (name === 'value_floats') t = makeTensor('f32', [a.floats('value_floats')!.length], a.floats('value_floats')!);
  else if (name === 'value_int') t = i64([a.int('value_int')!], []);
  else if (name === 'value_ints') t = i64(a.ints('value_ints')!);
  else if (name === 'value_string' || name === 'value_strings') return unsupported('dtype', `${what} is a string; kiln compiles numeric tensors only`);
  else return invalid(`Constant has unknown attribute '${name}'`);
  cx.setConst(0, t);
}

export const SHAPE_RULES: OpRule[] = [
  ...rules('Reshape', [5, 13, (cx) => reshape(cx, false)], [14, undefined, (cx) => reshape(cx, cx.attrs.int('allowzero', 0) === 1)]),
  ...rules('Flatten', [1, undefined, direct()]),
  ...rules('Squeeze', [1, 12, (cx) => axesOp(cx, false, false)], [13, undefined, (cx) => axesOp(cx, true, false)]),
  ...rules('Unsqueeze', [1, 12, (cx) => axesOp(cx, false, true)], [13, undefined, (cx) => axesOp(cx, true, true)]),
  ...rules('Expand', [8, undefined, (cx) => {
    const shape = cx.constDims(1, 'shape') ?? invalid('Expand needs its shape input');
    cx.emitOutputs('Expand', [cx.input(0)], { shape });
  }]),
  ...rules('Shape', [1, 14, (cx) => shapeOf(cx, false)], [15, undefined, (cx) => shapeOf(cx, true)]),
  ...rules('Size', [1, undefined, size]),
  ...rules('ConstantOfShape', [9, undefined, constantOfShape]),
  ...rules('Range', [11, undefined, range]),
  ...rules('Constant', [1, undefined, constant]),
];
