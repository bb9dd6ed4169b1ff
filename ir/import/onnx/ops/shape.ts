// Shape ops. kiln compiles static shapes, so every shape-like operand becomes an attribute (Reshape{shape},
// Expand{shape}, Squeeze/Unsqueeze{axes}) and must be known at import time; Shape, Size, ConstantOfShape, Range
// and Constant produce known values outright (from static dims or known inputs), which later rules fold into
// their attributes.
import { dimProduct, dimRange, dimSub } from '../../../dim.js';
import { type Dim, UNBOUNDED_SYMBOL, isStaticDim } from '../../../shape.js';
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
  const shape: Dim[] = (cx.constDims(1, 'shape') ?? invalid('Reshape needs its shape input')).map(clampDim);
  // A leading size the model fixed (its batch, exported as 1) where the user made that dim symbolic: a static
  // target cannot hold a symbolic element count, so the entry follows the symbol, as the exporter would have it.
  const lead = cx.type(0).shape[0];
  if (typeof lead === 'string' && !shape.some((d) => typeof d === 'string') && cx.values.promoted.get(lead) === shape[0]) {
    cx.note(`Reshape target [${shape.join(',')}] takes the symbol ${lead} in place of its leading ${shape[0]}`);
    shape[0] = lead;
  }
  cx.emitOutputs('Reshape', [cx.input(0)], { shape, ...(allowZero ? { allowzero: 1 } : {}) });
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

/** Range(start, limit, delta) with a limit computed from symbolic dims: its length is a dim, its values data. */
function symbolicRange(cx: NodeContext, limit: Dim): boolean {
  const [start, delta] = [cx.constant(0), cx.constant(2)];
  if (!start || !delta || start.data.length !== 1 || delta.data.length !== 1) return false;
  const [s, d] = [start.data[0]!, delta.data[0]!];
  const dtype = start.dtype === 'f32' ? 'f32' : /^i(8|16|32|64)$/.test(start.dtype) ? 'i32' : undefined;
  // Length max(ceil((limit - start) / delta), 0) is the dim limit - start when counting up by 1 from a start no
  // larger than the limit at every size (symbols are at least 1).
  if (!dtype || d !== 1 || !Number.isInteger(s) || s < 0) return false;
  const count = dimSub(limit, s);
  if (dimRange(count, () => UNBOUNDED_SYMBOL)[0] < 0) return false;
  cx.emitOutputs('Arange', [], { count: [count], start: s, delta: d, dtype });
  return true;
}

function range(cx: NodeContext): void {
  const limitSym = cx.has(1) && cx.values.isSym(cx.input(1)) ? cx.values.symOf(cx.input(1)) : undefined;
  if (limitSym && limitSym.dims.length === 1 && typeof limitSym.dims[0] === 'string') {
    if (symbolicRange(cx, limitSym.dims[0])) return;
    unsupported('dynamic', `Range with limit ${limitSym.dims[0]} (computed from symbolic dims) needs a known start and a delta of 1 counting up from a start >= 0; bind the symbols with --dim`);
  }
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
