// Linear quantization, as ONNX defines it: QuantizeLinear y = saturate(round(x / scale) + zero_point) and
// DequantizeLinear y = (x - zero_point) * scale, with one scale per tensor (a scalar), per slice along `axis`
// (a 1-D scale) or per block of `block_size` elements along `axis` (a scale of x's rank); DynamicQuantizeLinear,
// which derives a u8 scale and zero point from the data; and MatMulInteger, the i32 product of zero-point
// shifted i8/u8 matrices. Rounding is half to even throughout, as ONNX (numpy.rint) and WGSL's round() do.
import { type DType, intRange, isDType, isFloat, isSubByte } from '../dtype.js';
import { AttrReader, type OpDef, OpError, lookupOp, registerOp } from '../op.js';
import { type Dim, type Shape, formatShape, numel, strides } from '../shape.js';
import { type Tensor, makeTensor, scalarTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, checkBroadcastsTo, checkInputs, resolveAxis, staticShape } from './common.js';
import { roundHalfEven } from './elementwise-table.js';
import { forEachCoord, offsetOf, typeOfTensor } from './shape-util.js';

// ---------------------------------------------------------------------------------------------------------
// Scale and zero-point layout (shared by QuantizeLinear and DequantizeLinear)

/** How scale and zero point map onto x: one value, one per index along `axis`, or one per block along it. */
type ParamLayout =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'axis'; readonly axis: number; readonly len: number }
  | { readonly kind: 'block'; readonly axis: number; readonly block: number; readonly shape: readonly number[] };

function paramLayout(op: string, x: TensorType, scale: TensorType, attrs: AttrReader): ParamLayout {
  const block = attrs.int('block_size');
  if (block < 0) throw new OpError(`${op}: block_size must be >= 0, got ${block}`);
  const rank = x.shape.length;
  if (block === 0 && scale.shape.length === 0) return { kind: 'tensor' };
  const axis = resolveAxis(op, attrs.int('axis'), rank);
  const along = x.shape[axis]!;
  if (block === 0) {
    const len = scale.shape[0];
    if (scale.shape.length !== 1 || (len !== 1 && len !== along))
      throw new OpError(
        `${op}: scale ${formatShape(scale.shape)} must be a scalar (per tensor) or 1-D of length 1 or ${along} ` +
          `(per axis ${axis} of x ${formatShape(x.shape)}); blocked scales need block_size`,
      );
    return { kind: 'axis', axis, len: len as number };
  }
  // Blocked: x's shape with the blocked axis divided (rounding up) into blocks.
  const want = x.shape.map((d, i) => (i !== axis ? d : typeof d === 'number' ? Math.ceil(d / block) : undefined));
  if (want[axis] === undefined)
    throw new OpError(`${op} needs static shape: blocked axis ${axis} of x ${formatShape(x.shape)} is symbolic`);
  if (formatShape(scale.shape) !== formatShape(want as Dim[]))
    throw new OpError(
      `${op}: with block_size=${block} along axis ${axis}, scale must be ${formatShape(want as Dim[])} for x ${formatShape(x.shape)}, ` +
        `got ${formatShape(scale.shape)}`,
    );
  return { kind: 'block', axis, block, shape: staticShape(scale) };
}

/** For each element of x (row-major), the offset of its scale and zero point. */
function paramOffsets(layout: ParamLayout, xShape: readonly number[]): Uint32Array {
  const out = new Uint32Array(numel(xShape));
  if (layout.kind === 'tensor') return out;
  const blockStrides = layout.kind === 'block' ? strides(layout.shape) : [];
  forEachCoord(xShape, (c, flat) => {
    if (layout.kind === 'axis') out[flat] = layout.len === 1 ? 0 : c[layout.axis]!;
    else {
      const blockCoord = c.map((v, i) => (i === layout.axis ? Math.floor(v / layout.block) : v));
      out[flat] = offsetOf(blockCoord, blockStrides);
    }
  });
  return out;
}

/**
 * Checks common to both directions: scale is float and the zero point (if any) has the scale's shape, or both
 * hold one value ([] against [1] appears in ONNX's own test models).
 */
function checkScaleAndZeroPoint(op: string, x: TensorType, scale: TensorType, zp: TensorType | undefined, attrs: AttrReader): ParamLayout {
  if (!isFloat(scale.dtype)) throw new OpError(`${op}: scale must be a float tensor, got ${scale.dtype}`);
  const single = (t: TensorType): boolean => t.shape.every((d) => d === 1);
  if (zp && formatShape(zp.shape) !== formatShape(scale.shape) && !(single(zp) && single(scale)))
    throw new OpError(`${op}: zero point ${formatShape(zp.shape)} must have the shape of scale ${formatShape(scale.shape)}`);
  return paramLayout(op, x, scale, attrs);
}

/** Quantized dtypes: integers of at most 8 bits (i8, u8, i4, u4, i2, u2, ...). */
function requireQuantized(op: string, dtype: DType, what: string): void {
  if (!isSubByte(dtype)) throw new OpError(`${op}: ${what} must be an integer type of at most 8 bits (i8, u8, i4, u4, ...), got ${dtype}`);
}

// ---------------------------------------------------------------------------------------------------------
// QuantizeLinear

/** The output dtype: the zero point's, else output_dtype, else u8; both given must agree. */
function quantizedDType(zp: TensorType | undefined, attrs: AttrReader): DType {
  const named = attrs.string('output_dtype');
  if (named !== '' && !isDType(named)) throw new OpError(`QuantizeLinear: output_dtype '${named}' is not a dtype name`);
  if (zp && named !== '' && named !== zp.dtype)
    throw new OpError(`QuantizeLinear: output_dtype ${named} disagrees with the zero point's dtype ${zp.dtype}`);
  const dtype = zp ? zp.dtype : named !== '' ? (named as DType) : 'u8';
  requireQuantized('QuantizeLinear', dtype, zp ? 'the zero point' : 'output_dtype');
  return dtype;
}

registerOp({
  name: 'QuantizeLinear',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    axis: { kind: 'int', default: 1 },
    // ONNX's saturate only affects float8 targets; integer targets always saturate. Accepted for import.
    saturate: { kind: 'int', default: 1 },
    block_size: { kind: 'int', default: 0 },
    output_dtype: { kind: 'string', default: '' },
  },
  infer(inputs, attrs) {
    const [x, scale, zp] = checkInputs('QuantizeLinear', inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    if (!isFloat(x.dtype) && x.dtype !== 'i32') throw new OpError(`QuantizeLinear: x must be a float or i32 tensor, got ${x.dtype}`);
    checkScaleAndZeroPoint('QuantizeLinear', x, scale, zp, attrs);
    return [tensorType(quantizedDType(zp, attrs), x.shape)];
  },
  reference(inputs, attrs, outTypes) {
    const [x, scale, zp] = inputs as [Tensor, Tensor, Tensor | undefined];
    const offs = paramOffsets(
      checkScaleAndZeroPoint('QuantizeLinear', typeOfTensor(x), typeOfTensor(scale), zp && typeOfTensor(zp), attrs),
      x.shape,
    );
    const dtype = outTypes[0]!.dtype;
    const [lo, hi] = intRange(dtype);
    // The quotient is rounded to f32 before rounding to an integer, as ONNX's reference and ORT compute it in
    // f32: a quotient that only becomes an exact .5 tie in f32 must round as a tie.
    return [
      makeTensor(dtype, x.shape, (i) => {
        const q = roundHalfEven(Math.fround(x.data[i]! / scale.data[offs[i]!]!)) + (zp ? zp.data[offs[i]!]! : 0);
        return Math.min(Math.max(q, lo), hi);
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------------
// DequantizeLinear

registerOp({
  name: 'DequantizeLinear',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    axis: { kind: 'int', default: 1 },
    block_size: { kind: 'int', default: 0 },
    output_dtype: { kind: 'string' },
  },
  infer(inputs, attrs) {
    const [x, scale, zp] = checkInputs('DequantizeLinear', inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    if (x.dtype !== 'i32') requireQuantized('DequantizeLinear', x.dtype, 'x');
    if (zp && zp.dtype !== x.dtype) throw new OpError(`DequantizeLinear: zero point must have x's dtype ${x.dtype}, got ${zp.dtype}`);
    checkScaleAndZeroPoint('DequantizeLinear', x, scale, zp, attrs);
    const named = attrs.has('output_dtype') ? attrs.string('output_dtype') : undefined;
    if (named !== undefined && named !== scale.dtype)
      throw new OpError(
        `DequantizeLinear: output_dtype ${named} disagrees with the scale's dtype ${scale.dtype} (the output has the scale's dtype)`,
      );
    return [tensorType(scale.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const [x, scale, zp] = inputs as [Tensor, Tensor, Tensor | undefined];
    const offs = paramOffsets(
      checkScaleAndZeroPoint('DequantizeLinear', typeOfTensor(x), typeOfTensor(scale), zp && typeOfTensor(zp), attrs),
      x.shape,
    );
    return [makeTensor(scale.dtype, x.shape, (i) => (x.data[i]! - (zp ? zp.data[offs[i]!]! : 0)) * scale.data[offs[i]!]!)];
  },
});

// ---------------------------------------------------------------------------------------------------------
// DynamicQuantizeLinear

/**
 * ONNX's formula, step for step in f32 as its reference computes it (so scale and zero point match bit for
 * bit): the range [min(0, min x), max(0, max x)] spread over 0..255, scale 1/255 for an all-zero input.
 */
function dynamicQuantize(data: ArrayLike<number>): { y: number[]; scale: number; zeroPoint: number } {
  const f = Math.fround;
  let max = 0;
  let min = 0;
  for (let i = 0; i < data.length; i++) [max, min] = [Math.max(max, data[i]!), Math.min(min, data[i]!)];
  const scale = f(f(max === min ? 1 : f(max - min)) / 255);
  const zeroPoint = roundHalfEven(Math.min(Math.max(f(0 - f(min / scale)), 0), 255));
  const y = Array.from(data, (v) => Math.min(Math.max(roundHalfEven(f(v / scale)) + zeroPoint, 0), 255));
  return { y, scale, zeroPoint };
}

registerOp({
  name: 'DynamicQuantizeLinear',
  inputs: { min: 1, max: 1 },
  outputs: 3,
  attrs: {},
  infer(inputs) {
    const [x] = checkInputs('DynamicQuantizeLinear', inputs, 1) as [TensorType];
    if (!isFloat(x.dtype)) throw new OpError(`DynamicQuantizeLinear: x must be a float tensor, got ${x.dtype}`);
    return [tensorType('u8', x.shape), tensorType('f32', []), tensorType('u8', [])];
  },
  reference(inputs) {
    const x = inputs[0]!;
    const { y, scale, zeroPoint } = dynamicQuantize(x.data);
    return [makeTensor('u8', x.shape, y), scalarTensor('f32', scale), scalarTensor('u8', zeroPoint)];
  },
});

// ---------------------------------------------------------------------------------------------------------
// MatMulInteger

const INT8: readonly DType[] = ['i8', 'u8'];

/**
 * The shape a zero point broadcasts from onto its operand: a scalar or [1] is per tensor; a 1-D zero point
 * has one entry per row of A ([M] read as [M,1]) or per column of B ([N]); anything else must broadcast to
 * the operand as it is (ONNX's [D1, D2, M, 1] and [D1, D2, 1, N]).
 */
function zeroPointShape(which: 'A' | 'B', zp: TensorType, operand: TensorType): Shape {
  const op = 'MatMulInteger';
  if (!INT8.includes(zp.dtype) || zp.dtype !== operand.dtype)
    throw new OpError(`${op}: the zero point of ${which} must have ${which}'s dtype ${operand.dtype}, got ${zp.dtype}`);
  const s = operand.shape;
  let view: Shape = zp.shape;
  if (zp.shape.length === 1 && zp.shape[0] !== 1) {
    const [rows, cols] = s.length === 1 ? (which === 'A' ? [1, s[0]!] : [s[0]!, 1]) : [s[s.length - 2]!, s[s.length - 1]!];
    const want = which === 'A' ? rows : cols;
    if (zp.shape[0] !== want)
      throw new OpError(
        `${op}: a 1-D zero point of ${which} ${formatShape(s)} needs one entry per ${which === 'A' ? 'row' : 'column'} (${want}), ` +
          `got ${formatShape(zp.shape)}`,
      );
    view = which === 'A' && s.length > 1 ? [want, 1] : [want];
  }
  checkBroadcastsTo(op, `the zero point of ${which}`, view, s);
  return view;
}

/** Subtract a zero point (broadcast from `view`) from an operand, as exact i32 values. */
function shifted(x: Tensor, zp: Tensor | undefined, view: Shape | undefined): Tensor {
  if (!zp || !view) return makeTensor('i32', x.shape, x.data);
  const offs = broadcastOffsets(view as number[], x.shape);
  return makeTensor('i32', x.shape, (i) => x.data[i]! - zp.data[offs[i]!]!);
}

// MatMulInteger has exactly MatMul's shape rules (numpy matmul: 1-D operands, broadcast batch dims), so it asks
// MatMul for them rather than restating them; MatMul's reference sums in float64, exact for these products.
function matmul(): { def: OpDef; attrs: AttrReader } {
  const def = lookupOp('MatMul');
  if (!def) throw new Error('MatMulInteger needs MatMul registered');
  return { def, attrs: new AttrReader('MatMul', def.attrs, {}) };
}

function matmulShape(a: TensorType, b: TensorType): Shape {
  const { def, attrs } = matmul();
  try {
    return def.infer([tensorType('f32', a.shape), tensorType('f32', b.shape)], attrs)[0]!.shape;
  } catch (e) {
    if (e instanceof OpError) throw new OpError(e.message.replace(/^MatMul\b/, 'MatMulInteger'));
    throw e;
  }
}

registerOp({
  name: 'MatMulInteger',
  inputs: { min: 2, max: 4 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [a, b, azp, bzp] = checkInputs('MatMulInteger', inputs, 2, 4) as [TensorType, TensorType, TensorType?, TensorType?];
    for (const [name, t] of [['A', a], ['B', b]] as const)
      if (!INT8.includes(t.dtype)) throw new OpError(`MatMulInteger: ${name} must be i8 or u8, got ${t.dtype}`);
    const shape = matmulShape(a, b);
    if (azp) zeroPointShape('A', azp, a);
    if (bzp) zeroPointShape('B', bzp, b);
    return [tensorType('i32', shape)];
  },
  reference(inputs, _attrs, outTypes) {
    const [a, b, azp, bzp] = inputs as [Tensor, Tensor, Tensor?, Tensor?];
    const a32 = shifted(a, azp, azp && zeroPointShape('A', typeOfTensor(azp), typeOfTensor(a)));
    const b32 = shifted(b, bzp, bzp && zeroPointShape('B', typeOfTensor(bzp), typeOfTensor(b)));
    const { def, attrs } = matmul();
    return def.reference([a32, b32], attrs, outTypes);
  },
});
