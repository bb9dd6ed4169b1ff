// Ops that pick elements by position: Slice (strided ranges), Pad (grow or crop each axis, filling by a mode)
// and Gather (rows chosen by an index tensor). All take any dtype and keep it. Slice and Pad ranges are
// attributes, not input tensors as in ONNX, so their result shapes are static.
import { dimSub } from '../dim.js';
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, type Shape, formatShape, strides } from '../shape.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, resolveAxis, splitAtAxis, staticShape } from './common.js';
import { forEachCoord, tensorFromCoords } from './shape-util.js';

/** Like resolveAxes in common.ts but keeping the given order, which pairs each axis with its starts/pads entry. */
function orderedAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => resolveAxis(op, a, rank, 'axes entry'));
  const dup = out.find((a, i) => out.indexOf(a) !== i);
  if (dup !== undefined) throw new OpError(`${op}: axes [${axes.join(',')}] names axis ${dup} twice`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Slice

/** Ends this large mean "to the end" even on a symbolic dim (exporters write INT_MAX). */
const TO_THE_END = 2 ** 31 - 1;

/** First index and element count of ONNX's clamped range start:end:step over a dim of size `dim`. */
function sliceRange(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  // A negative step walks down from at most dim-1 to just past -1 (i.e. through index 0).
  if (step > 0) [s, e] = [clamp(s, 0, dim), clamp(e, 0, dim)];
  else [s, e] = [clamp(s, 0, dim - 1), clamp(e, -1, dim - 1)];
  return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
}

/** Per input axis, the first index and step read, and the result shape. */
function slicePlan(shape: Shape, attrs: AttrReader): { first: number[]; step: number[]; outShape: Dim[] } {
  const starts = attrs.ints('starts');
  const ends = attrs.dims('ends');
  const axes = attrs.optInts('axes') ?? starts.map((_, i) => i);
  const steps = attrs.optInts('steps') ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    throw new OpError(
      `Slice: starts, ends, axes and steps must have the same length, got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length}`,
    );
  const first = shape.map(() => 0);
  const step = shape.map(() => 1);
  const outShape = [...shape];
  orderedAxes('Slice', axes, shape.length).forEach((axis, k) => {
    const dim = shape[axis]!;
    if (steps[k] === 0) throw new OpError(`Slice: steps entry ${k} is 0`);
    const end = ends[k]!;
    if (typeof dim !== 'number' || typeof end !== 'number') {
      // Symbolic: a forward unit-step range from a static start to the end of the axis or to a symbolic end that
      // lies within it (exporters' x[:, :seq]); anything else depends on clamping that only run time decides.
      const toEnd = end === dim || (typeof end === 'number' && end >= TO_THE_END);
      if (steps[k] === 1 && starts[k]! >= 0 && (toEnd || typeof dim === 'number')) {
        first[axis] = starts[k]!;
        outShape[axis] = dimSub(toEnd ? dim : end, starts[k]!);
        return;
      }
      throw new OpError(`Slice needs static shape: axis ${axis} of ${formatShape(shape)} sliced ${starts[k]}:${end}:${steps[k]} depends on clamping to a symbolic size`);
    }
    const r = sliceRange(dim, starts[k]!, end, steps[k]!);
    first[axis] = r.first;
    step[axis] = steps[k]!;
    outShape[axis] = r.count;
  });
  return { first, step, outShape };
}

registerOp({
  name: 'Slice',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    starts: { kind: 'ints', required: true },
    ends: { kind: 'dims', required: true },
    axes: { kind: 'ints' },
    steps: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('Slice', inputs, 1) as [TensorType];
    return [tensorType(x.dtype, slicePlan(x.shape, attrs).outShape)];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0]!;
    const { first, step } = slicePlan(x.shape, attrs);
    const inStrides = strides(x.shape);
    return [
      tensorFromCoords(x.dtype, staticShape(outTypes[0]!), (c) => {
        let o = 0;
        for (let i = 0; i < c.length; i++) o += (first[i]! + c[i]! * step[i]!) * inStrides[i]!;
        return x.data[o]!;
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------------
// Pad

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;
type PadMode = (typeof PAD_MODES)[number];

/** Per input axis, pads before and after (negative crops); the pads attribute lists all begins, then all ends. */
function padAmounts(rank: number, attrs: AttrReader): { begin: number[]; end: number[] } {
  const pads = attrs.ints('pads');
  const axes = orderedAxes('Pad', attrs.optInts('axes') ?? Array.from({ length: rank }, (_, i) => i), rank);
  if (pads.length !== 2 * axes.length)
    throw new OpError(`Pad: pads must have 2 entries per padded axis (${2 * axes.length}), got [${pads.join(',')}]`);
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  axes.forEach((a, k) => {
    begin[a] = pads[k]!;
    end[a] = pads[k + axes.length]!;
  });
  return { begin, end };
}

function padMode(attrs: AttrReader): PadMode {
  const m = attrs.string('mode');
  if (!(PAD_MODES as readonly string[]).includes(m)) throw new OpError(`Pad: mode must be one of ${PAD_MODES.join(', ')}, got '${m}'`);
  return m as PadMode;
}

/**
 * For each index along a padded axis of `n` elements, the input index it copies, or -1 for the constant.
 * As in ONNX's reference, negative pads crop first and the modes then fill from what is left: reflect
 * mirrors without repeating the edge (repeatedly, when the pad exceeds the axis), wrap is periodic.
 */
function padSource(n: number, begin: number, end: number, mode: PadMode): Int32Array {
  const lo = Math.max(0, -begin);
  const kept = n - lo - Math.max(0, -end);
  const lead = Math.max(0, begin);
  const out = new Int32Array(n + begin + end);
  const period = 2 * (kept - 1);
  for (let o = 0; o < out.length; o++) {
    const j = o - lead;
    if (j >= 0 && j < kept) out[o] = lo + j;
    else if (mode === 'constant') out[o] = -1;
    else if (mode === 'edge') out[o] = lo + Math.min(Math.max(j, 0), kept - 1);
    else if (mode === 'wrap') out[o] = lo + (((j % kept) + kept) % kept);
    else {
      const r = period === 0 ? 0 : ((j % period) + period) % period;
      out[o] = lo + (r < kept ? r : period - r);
    }
  }
  return out;
}

registerOp({
  name: 'Pad',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    pads: { kind: 'ints', required: true },
    mode: { kind: 'string', default: 'constant' },
    value: { kind: 'float', default: 0 },
    axes: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('Pad', inputs, 1) as [TensorType];
    const mode = padMode(attrs);
    const { begin, end } = padAmounts(x.shape.length, attrs);
    const shape = x.shape.map((d, a) => {
      const [b, e] = [begin[a]!, end[a]!];
      if (b === 0 && e === 0) return d;
      if (typeof d !== 'number') throw new OpError(`Pad needs static shape: axis ${a} of ${formatShape(x.shape)} is padded but symbolic`);
      if (d + b + e < 0) throw new OpError(`Pad: pads ${b} and ${e} crop more than the ${d} elements of axis ${a}`);
      const kept = d - Math.max(0, -b) - Math.max(0, -e);
      if (mode !== 'constant' && kept <= 0 && (b > 0 || e > 0))
        throw new OpError(`Pad: ${mode} mode has no elements to copy from on axis ${a} (size ${d}, pads ${b} and ${e})`);
      return d + b + e;
    });
    return [tensorType(x.dtype, shape)];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0]!;
    const mode = padMode(attrs);
    const { begin, end } = padAmounts(x.shape.length, attrs);
    const sources = x.shape.map((n, a) => padSource(n, begin[a]!, end[a]!, mode));
    const inStrides = strides(x.shape);
    const value = attrs.float('value');
    return [
      tensorFromCoords(x.dtype, staticShape(outTypes[0]!), (c) => {
        let o = 0;
        for (let a = 0; a < c.length; a++) {
          const i = sources[a]![c[a]!]!;
          if (i < 0) return value;
          o += i * inStrides[a]!;
        }
        return x.data[o]!;
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------------
// Gather

registerOp({
  name: 'Gather',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { axis: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [data, indices] = checkInputs('Gather', inputs, 2) as [TensorType, TensorType];
    if (indices.dtype !== 'i32' && indices.dtype !== 'i64')
      throw new OpError(`Gather: indices must be i32 or i64, got ${indices.dtype}`);
    const axis = resolveAxis('Gather', attrs.int('axis'), data.shape.length);
    return [tensorType(data.dtype, [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)])];
  },
  reference(inputs, attrs, outTypes) {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const axis = resolveAxis('Gather', attrs.int('axis'), data.shape.length);
    const { outer, len, inner } = splitAtAxis(data.shape, axis);
    // Negative indices count from the end, as in ONNX; anything else out of range is the model's bug.
    const rows = Array.from(indices.data, (v) => (v < 0 ? v + len : v));
    forEachCoord(indices.shape, (at, k) => {
      if (rows[k]! < 0 || rows[k]! >= len)
        throw new OpError(
          `Gather: index ${indices.data[k]} at indices position [${at.join(',')}] is out of range for axis ${axis} ` +
            `of size ${len} (expected ${-len}..${len - 1})`,
        );
    });
    const out = new Float64Array(outer * rows.length * inner);
    for (let o = 0; o < outer; o++)
      rows.forEach((r, k) => out.set(data.data.subarray((o * len + r) * inner, (o * len + r + 1) * inner), (o * rows.length + k) * inner));
    return [makeTensor(data.dtype, staticShape(outTypes[0]!), out)];
  },
});
