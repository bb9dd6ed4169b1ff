// Resize (ONNX opset 19+) with the output size an attribute: the importer folds ONNX's scales/sizes inputs and
// keep_aspect_ratio_policy into `sizes`, the full output shape, and passes the model's `scales` along because
// ONNX maps coordinates with the given scale, not with out/in (they differ when scale * in is not whole).
// Interpolation is separable: one 1-D pass per resized axis, each output coordinate a weighted sum of a few
// input taps. Coordinates, tap choice and weights (antialiased linear and cubic included) follow ONNX's
// reference implementation (onnx/reference/ops/op_resize.py), which produced the conformance data.
import { dtypeInfo, intRange } from '../dtype.js';
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, type Shape, formatShape } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, resolveAxis, splitAtAxis, staticShape } from './common.js';
import { roundHalfEven } from './elementwise-table.js';
import { forEachCoord } from './shape-util.js';

const MODES = ['nearest', 'linear', 'cubic'] as const;
const TRANSFORMS = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_crop_and_resize',
] as const;
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
const ASPECT_POLICIES = ['stretch', 'not_larger', 'not_smaller'] as const;
type Transform = (typeof TRANSFORMS)[number];

function oneOf<T extends string>(attrs: AttrReader, name: string, allowed: readonly T[]): T {
  const v = attrs.string(name);
  if (!(allowed as readonly string[]).includes(v)) throw new OpError(`Resize: ${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

/** How one resized axis maps output coordinates to input ones. */
interface AxisPlan {
  readonly inSize: number;
  readonly outSize: number;
  readonly scale: number;
  /** Crop window [start, end] in normalised input coordinates (tf_crop_and_resize only). */
  readonly roi: readonly [number, number];
}

interface ResizePlan {
  readonly outShape: Dim[];
  /**
   * Per axis, its plan, or undefined for an axis that is copied through; 'symbolic' for a resized axis whose in
   * or out size is symbolic (shape inference only: the interpreter plans it once the symbols have values).
   */
  readonly axes: readonly (AxisPlan | 'symbolic' | undefined)[];
}

/** An attribute with one value per dim, or one per `axes` entry, spread to one per dim (undefined elsewhere). */
function perDim<T extends Dim>(name: string, values: readonly T[], axes: readonly number[] | undefined, rank: number): (T | undefined)[] {
  if (values.length === rank) return [...values];
  if (axes && values.length === axes.length) {
    const out = new Array<T | undefined>(rank).fill(undefined);
    axes.forEach((a, i) => (out[a] = values[i]));
    return out;
  }
  const want = axes ? `${rank} (one per dim) or ${axes.length} (one per axes entry)` : `${rank} (one per dim)`;
  throw new OpError(`Resize: ${name} must have ${want} entries, got [${values.join(',')}]`);
}

/** Check every attribute against the input shape; the plan drives both infer and reference. */
function resizePlan(x: Shape, attrs: AttrReader): ResizePlan {
  const rank = x.length;
  const mode = oneOf(attrs, 'mode', MODES);
  oneOf(attrs, 'coordinate_transformation_mode', TRANSFORMS);
  oneOf(attrs, 'nearest_mode', NEAREST_MODES);
  // The policy decided `sizes` at import; it has no further effect here.
  oneOf(attrs, 'keep_aspect_ratio_policy', ASPECT_POLICIES);
  flagAttr('Resize', attrs, 'exclude_outside');
  if (flagAttr('Resize', attrs, 'antialias') && mode === 'nearest')
    throw new OpError('Resize: antialias applies to linear and cubic modes, not nearest');
  const axesAttr = attrs.optInts('axes');
  const axes = axesAttr?.map((a) => resolveAxis('Resize', a, rank, 'axes entry'));
  const dup = axes?.find((a, i) => axes.indexOf(a) !== i);
  if (dup !== undefined) throw new OpError(`Resize: axes [${axesAttr!.join(',')}] names axis ${dup} twice`);
  const sizes = perDim('sizes', attrs.dims('sizes'), axes, rank);
  const scales = attrs.has('scales') ? perDim('scales', attrs.floats('scales'), axes, rank) : undefined;
  // roi lists all starts, then all ends; an axis it does not cover keeps the whole range [0, 1].
  let roi: [number, number][] = x.map(() => [0, 1]);
  if (attrs.has('roi')) {
    const given = attrs.floats('roi');
    if (given.length % 2 !== 0) throw new OpError(`Resize: roi must list a start and an end per axis, got [${given.join(',')}]`);
    const starts = perDim('roi starts', given.slice(0, given.length / 2), axes, rank);
    const ends = perDim('roi ends', given.slice(given.length / 2), axes, rank);
    roi = roi.map(([s, e], d) => [starts[d] ?? s, ends[d] ?? e]);
  }
  const outShape: Dim[] = [];
  const plans = x.map((inSize, d): AxisPlan | 'symbolic' | undefined => {
    const resized = axes ? axes.includes(d) : true;
    const scale = scales?.[d];
    if (!resized && scale !== undefined && scale !== 1)
      throw new OpError(`Resize: scales gives axis ${d} scale ${scale}, but it is not in axes`);
    // An axis outside `axes` keeps its size (a static one must agree with sizes); so does a symbolic axis
    // whose scale is 1, whose sizes entry (the importer cannot know the size) is not read.
    if (!resized && typeof inSize === 'number' && sizes[d] !== undefined && sizes[d] !== inSize)
      throw new OpError(`Resize: sizes gives axis ${d} size ${sizes[d]}, but it is not in axes and keeps its size ${inSize}`);
    if (!resized || (typeof inSize !== 'number' && scale === 1)) {
      outShape.push(inSize);
      return undefined;
    }
    const outSize = sizes[d]!;
    if (typeof outSize === 'number' && (!Number.isInteger(outSize) || outSize < 0))
      throw new OpError(`Resize: sizes entry for axis ${d} must be a whole number >= 0, got ${outSize}`);
    if (scale !== undefined && !(scale > 0)) throw new OpError(`Resize: scales entry for axis ${d} must be > 0, got ${scale}`);
    outShape.push(outSize);
    // A symbolic in or out size: the interpreter plans the axis per run, with the symbols bound.
    if (typeof inSize !== 'number' || typeof outSize !== 'number') return 'symbolic';
    if (inSize === 0 && outSize > 0)
      throw new OpError(`Resize: axis ${d} of X ${formatShape(x)} is empty; there is nothing to resize to ${outSize}`);
    return { inSize, outSize, scale: scale ?? outSize / inSize, roi: roi[d]! };
  });
  return { outShape, axes: plans };
}

// ---------------------------------------------------------------------------------------------------------
// One axis: coordinates, taps and weights

/** The input coordinate output coordinate `x` samples, or undefined outside tf_crop_and_resize's crop. */
function sourceCoordinate(transform: Transform, p: AxisPlan, x: number): number | undefined {
  // ONNX's reference measures the resized length as scale * in, not as the whole output size.
  const length = p.scale * p.inSize;
  switch (transform) {
    case 'half_pixel':
      return (x + 0.5) / p.scale - 0.5;
    case 'half_pixel_symmetric': {
      // Centres the sampled window when the output size was rounded down from scale * in.
      const offset = (p.inSize / 2) * (1 - p.outSize / length);
      return offset + (x + 0.5) / p.scale - 0.5;
    }
    case 'pytorch_half_pixel':
      // The spec (and ORT) map a length-1 output to 0; ONNX's Python reference uses -0.5, which differs for cubic.
      return length > 1 ? (x + 0.5) / p.scale - 0.5 : 0;
    case 'align_corners':
      return length === 1 ? 0 : (x * (p.inSize - 1)) / (length - 1);
    case 'asymmetric':
      return x / p.scale;
    case 'tf_crop_and_resize': {
      const [start, end] = p.roi;
      const span = (end - start) * (p.inSize - 1);
      const at = (length === 1 ? span / 2 : (x * span) / (length - 1)) + start * (p.inSize - 1);
      return at < 0 || at > p.inSize - 1 ? undefined : at;
    }
  }
}

/** Weights for taps base+first .. base+first+n-1, given ratio = coordinate - base in (0, 1]. */
type Coefficients = (ratio: number, scale: number) => { first: number; weights: number[] };

function cubicKernel(a: number): (t: number) => number {
  return (t) => {
    const x = Math.abs(t);
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    return 0;
  };
}

/**
 * Antialiased interpolation (downsampling only): the kernel stretched by 1/scale so it covers every input
 * sample the output cell spans, over `reach / scale` taps each side, normalised to sum to 1.
 */
function stretched(kernel: (t: number) => number, reach: number): Coefficients {
  return (ratio, scale) => {
    const s = Math.min(scale, 1);
    const first = Math.floor(-reach / s) + 1;
    const weights: number[] = [];
    for (let j = first; j <= 1 - first; j++) weights.push(kernel(s * (j - ratio)));
    const sum = weights.reduce((u, v) => u + v, 0);
    return { first, weights: weights.map((w) => w / sum) };
  };
}

function coefficients(attrs: AttrReader): Coefficients {
  const mode = attrs.string('mode');
  const antialias = flagAttr('Resize', attrs, 'antialias');
  if (mode === 'linear') {
    if (antialias) return stretched((t) => Math.max(0, 1 - Math.abs(t)), 1);
    return (ratio) => ({ first: 0, weights: [1 - ratio, ratio] });
  }
  if (mode === 'cubic') {
    const kernel = cubicKernel(attrs.float('cubic_coeff_a'));
    if (antialias) return stretched(kernel, 2);
    return (ratio) => ({ first: -1, weights: [kernel(1 + ratio), kernel(ratio), kernel(1 - ratio), kernel(2 - ratio)] });
  }
  // Nearest: one of base and base+1 (ratio 1 is an exact hit on base+1, whatever the rounding mode).
  const nearest = attrs.string('nearest_mode');
  const up = (ratio: number): boolean =>
    ratio === 1 ||
    (nearest === 'round_prefer_floor' ? ratio > 0.5 : nearest === 'round_prefer_ceil' ? ratio >= 0.5 : nearest === 'ceil');
  return (ratio) => ({ first: 0, weights: up(ratio) ? [0, 1] : [1, 0] });
}

/**
 * A coordinate within float64 rounding of a multiple of 1/2 is taken as that multiple. Coordinates are rationals
 * (sizes or scales over sizes); where the exact one is an integer or a half (an exact hit, or a tie between two
 * nearest taps), float64 can land a hair either side and flip the nearest tap. Snapping decides such points as
 * the exact rational does, which is what the symbolic-size kernels compute in integers (compiler/kernels/
 * resize-coords.ts); a coordinate that is not such a point lies far further than 1e-9 from one.
 */
function snapHalf(at: number): number {
  const half = Math.round(at * 2) / 2;
  return Math.abs(at - half) <= 1e-9 * Math.max(1, Math.abs(at)) ? half : at;
}

/** Taps of one output coordinate: clamped input indices with their weights, or undefined to extrapolate. */
interface Taps {
  readonly index: number[];
  readonly weight: number[];
}

function axisTaps(p: AxisPlan, attrs: AttrReader): (Taps | undefined)[] {
  const transform = attrs.string('coordinate_transformation_mode') as Transform;
  const coeffs = coefficients(attrs);
  const exclude = flagAttr('Resize', attrs, 'exclude_outside');
  return Array.from({ length: p.outSize }, (_, x) => {
    const raw = sourceCoordinate(transform, p, x);
    if (raw === undefined) return undefined;
    const at = snapHalf(raw);
    // base is the tap at or left of `at`, strictly left on an exact hit, so that ratio lies in (0, 1].
    const base = Math.ceil(at) - 1;
    const { first, weights } = coeffs(at - base, p.scale);
    // exclude_outside drops taps past the edges and renormalises; otherwise they read the edge (edge padding).
    const outside = (i: number): boolean => i < 0 || i >= p.inSize;
    const sum = exclude ? weights.reduce((s, w, k) => (outside(base + first + k) ? s : s + w), 0) : 1;
    const taps: Taps = { index: [], weight: [] };
    weights.forEach((w, k) => {
      const i = base + first + k;
      // Zero weights are skipped so an inf or NaN next to an exact hit does not leak in as 0 * inf.
      if (w === 0 || (exclude && outside(i))) return;
      taps.index.push(Math.min(Math.max(i, 0), p.inSize - 1));
      taps.weight.push(w / sum);
    });
    return taps;
  });
}

/** Resample axis d of data (shape `shape`) onto `taps`; extrapolated coordinates are filled in later. */
function resampleAxis(data: Float64Array, shape: number[], d: number, taps: readonly (Taps | undefined)[]): Float64Array {
  const { outer, len, inner } = splitAtAxis(shape, d);
  const out = new Float64Array(outer * taps.length * inner);
  for (let o = 0; o < outer; o++)
    taps.forEach((t, x) => {
      if (!t) return;
      const dst = (o * taps.length + x) * inner;
      for (let k = 0; k < t.index.length; k++) {
        const src = (o * len + t.index[k]!) * inner;
        const w = t.weight[k]!;
        for (let j = 0; j < inner; j++) out[dst + j] = out[dst + j]! + w * data[src + j]!;
      }
    });
  return out;
}

registerOp({
  name: 'Resize',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    mode: { kind: 'string', default: 'nearest' },
    coordinate_transformation_mode: { kind: 'string', default: 'half_pixel' },
    nearest_mode: { kind: 'string', default: 'round_prefer_floor' },
    cubic_coeff_a: { kind: 'float', default: -0.75 },
    exclude_outside: { kind: 'int', default: 0 },
    extrapolation_value: { kind: 'float', default: 0 },
    antialias: { kind: 'int', default: 0 },
    keep_aspect_ratio_policy: { kind: 'string', default: 'stretch' },
    axes: { kind: 'ints' },
    sizes: { kind: 'dims', required: true },
    scales: { kind: 'floats' },
    roi: { kind: 'floats' },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('Resize', inputs, 1) as [TensorType];
    const kind = dtypeInfo(x.dtype).kind;
    if (kind !== 'float' && kind !== 'int') throw new OpError(`Resize needs a float or int input, got ${x.dtype}`);
    return [tensorType(x.dtype, resizePlan(x.shape, attrs).outShape)];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0] as Tensor;
    const plan = resizePlan(x.shape, attrs);
    const outShape = staticShape(outTypes[0]!);
    let data: Float64Array = Float64Array.from(x.data);
    const shape = [...x.shape];
    const extrapolate: (readonly boolean[])[] = [];
    // Last axis first, as ONNX's reference recursion nests; each pass is one 1-D interpolation.
    for (let d = shape.length - 1; d >= 0; d--) {
      const p = plan.axes[d];
      if (!p) continue;
      if (p === 'symbolic') throw new OpError('Resize: the reference needs the symbols bound (static shapes)');
      const taps = axisTaps(p, attrs);
      data = resampleAxis(data, shape, d, taps);
      shape[d] = p.outSize;
      if (taps.some((t) => !t)) extrapolate[d] = taps.map((t) => !t);
    }
    // tf_crop_and_resize: a point outside the crop on any axis is the extrapolation value.
    if (extrapolate.length > 0) {
      const value = attrs.float('extrapolation_value');
      forEachCoord(outShape, (c, flat) => {
        if (c.some((v, d) => extrapolate[d]?.[v])) data[flat] = value;
      });
    }
    // Integer results round half to even and saturate rather than wrap (an interpolated pixel stays in range).
    if (dtypeInfo(x.dtype).kind === 'int') {
      const [lo, hi] = intRange(x.dtype);
      data = data.map((v) => Math.min(Math.max(roundHalfEven(v), lo), hi));
    }
    return [makeTensor(x.dtype, outShape, data)];
  },
});
