// Shape plumbing for the shape-heavy op families (matmul, conv, pool, movement): dtype and static-shape checks,
// arithmetic on possibly symbolic dims, the sliding-window geometry that Conv and pooling share, and coordinate
// iteration for reference implementations. Generic arity/axis/broadcast helpers live in common.ts.
import { dimAdd, dimCeilDiv, dimFloorDiv, dimMul, dimSub } from '../dim.js';
import { type DType, isFloat } from '../dtype.js';
import { type AttrReader, OpError } from '../op.js';
import { type Dim, type Shape, formatShape, isStaticShape, numel, strides as rowMajorStrides } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';

// ---------------------------------------------------------------------------------------------------------
// Operand checks

export function requireFloat(op: string, t: TensorType, name: string): void {
  if (!isFloat(t.dtype)) throw new OpError(`${op}: ${name} must be a float tensor (f32, f16 or bf16), got ${t.dtype}`);
}

export function requireSameDType(op: string, a: TensorType, aName: string, b: TensorType, bName: string): void {
  if (a.dtype !== b.dtype) throw new OpError(`${op}: ${aName} and ${bName} must have the same dtype, got ${a.dtype} and ${b.dtype}`);
}

/** The shape as numbers, or an OpError saying which operand needs to be static. */
export function requireStatic(op: string, shape: Shape, what: string): number[] {
  if (!isStaticShape(shape)) throw new OpError(`${op} needs static shape: ${what} is ${formatShape(shape)}`);
  return [...shape];
}

/** An image-like operand [N, C, ...spatial] whose dims may all be symbolic (Conv and pooling take those). */
export function featureMapDims(op: string, x: TensorType, name = 'X'): { batch: Dim; channels: Dim; spatial: Dim[] } {
  if (x.shape.length < 3)
    throw new OpError(`${op}: ${name} must be [N, C, ...spatial] with at least one spatial dim, got ${formatShape(x.shape)}`);
  const [batch, channels, ...spatial] = x.shape;
  return { batch: batch!, channels: channels!, spatial };
}

/** An image-like operand [N, C, ...spatial]: batch and channels may be symbolic, spatial dims must be static. */
export function featureMap(op: string, x: TensorType, name = 'X'): { batch: Dim; channels: Dim; spatial: number[] } {
  const { batch, channels, spatial } = featureMapDims(op, x, name);
  if (!isStaticShape(spatial)) throw new OpError(`${op} needs static shape: spatial dims of ${name} ${formatShape(x.shape)} are symbolic`);
  return { batch, channels, spatial: [...spatial] };
}

/** The type of a concrete tensor, for re-running shape checks inside reference(). */
export const typeOfTensor = (t: Tensor): TensorType => tensorType(t.dtype, t.shape);

// ---------------------------------------------------------------------------------------------------------
// Sliding windows (Conv, MaxPool, AveragePool)

export const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;
export type AutoPad = (typeof AUTO_PADS)[number];

/**
 * Geometry of a window sliding over the spatial dims; each array has one entry per spatial dim. Over symbolic
 * input sizes (Window<Dim>) the output sizes, and the pads auto_pad SAME derives from them, are dims too.
 */
export interface Window<D extends Dim = number> {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** ONNX order: all begin pads, then all end pads ([top, left, bottom, right] in 2-D). */
  readonly pads: readonly D[];
  readonly outSize: readonly D[];
}

/** A per-spatial-dim ints attribute of the expected length, each entry at least `min`; `fill` when absent. */
function spatialInts(op: string, attrs: AttrReader, name: string, length: number, fill: number, min: number): number[] {
  const v = attrs.optInts(name);
  if (v === undefined) return new Array<number>(length).fill(fill);
  if (v.length !== length) throw new OpError(`${op}: ${name} must have ${length} entries, got [${v.join(',')}]`);
  const bad = v.find((x) => x < min);
  if (bad !== undefined) throw new OpError(`${op}: ${name} entries must be >= ${min}, got [${v.join(',')}]`);
  return [...v];
}

function readAutoPad(op: string, attrs: AttrReader): AutoPad {
  const v = attrs.string('auto_pad');
  if (!(AUTO_PADS as readonly string[]).includes(v))
    throw new OpError(`${op}: auto_pad must be one of ${AUTO_PADS.join(', ')}, got '${v}'`);
  return v as AutoPad;
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * Resolve auto_pad, pads, strides and dilations into the window geometry and output size, following ONNX.
 * With explicit pads, ceil_mode may add one more window, but (as in ONNX 19+ and PyTorch) never one that
 * would start inside the end padding; ONNX's auto_pad output sizes do not depend on ceil_mode. The SAME
 * modes put the odd pad cell at the end (UPPER) or the beginning (LOWER). A symbolic input size gives the
 * same values as dims (symbolicExtent); whether its window fits is checked against the symbol's bounds by
 * checkWindowFits, since inference does not know them.
 */
export function resolveWindow(op: string, attrs: AttrReader, inSize: readonly number[], kernel: readonly number[], ceilMode: boolean): Window;
export function resolveWindow(op: string, attrs: AttrReader, inSize: readonly Dim[], kernel: readonly number[], ceilMode: boolean): Window<Dim>;
export function resolveWindow(
  op: string,
  attrs: AttrReader,
  inSize: readonly Dim[],
  kernel: readonly number[],
  ceilMode: boolean,
): Window<Dim> {
  const n = inSize.length;
  const autoPad = readAutoPad(op, attrs);
  const strides = spatialInts(op, attrs, 'strides', n, 1, 1);
  const dilations = spatialInts(op, attrs, 'dilations', n, 1, 1);
  const explicitPads = spatialInts(op, attrs, 'pads', 2 * n, 0, 0);
  // Exporters often write pads=[0,...] next to an auto_pad; only real pads conflict with it.
  if (autoPad !== 'NOTSET' && explicitPads.some((p) => p !== 0))
    throw new OpError(`${op}: pads [${explicitPads.join(',')}] cannot be combined with auto_pad=${autoPad}`);
  const pads = new Array<Dim>(2 * n).fill(0);
  const outSize: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const dilatedKernel = dilations[i]! * (kernel[i]! - 1) + 1;
    const s = strides[i]!;
    const size = inSize[i]!;
    if (typeof size !== 'number') {
      const e = symbolicExtent(size, s, dilatedKernel, autoPad, [explicitPads[i]!, explicitPads[i + n]!], ceilMode);
      [pads[i], pads[i + n]] = e.pads;
      outSize.push(e.out);
      continue;
    }
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = ceilDiv(size, s);
      const total = Math.max(0, (out - 1) * s + dilatedKernel - size);
      pads[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pads[i + n] = total - (pads[i] as number);
      outSize.push(out);
      continue;
    }
    if (autoPad === 'NOTSET') {
      pads[i] = explicitPads[i]!;
      pads[i + n] = explicitPads[i + n]!;
    }
    const [pb, pe] = [pads[i] as number, pads[i + n] as number];
    const span = size + pb + pe - dilatedKernel;
    if (span < 0)
      throw new OpError(
        `${op}: window does not fit along spatial dim ${i}: input ${size} + pads ${pb}+${pe} ` +
          `is smaller than the dilated kernel ${dilatedKernel}`,
      );
    const roundUp = ceilMode && autoPad === 'NOTSET';
    let out = (roundUp ? ceilDiv(span, s) : Math.floor(span / s)) + 1;
    if (roundUp && (out - 1) * s >= size + pb) out--;
    outSize.push(out);
  }
  return { kernel: [...kernel], strides, dilations, pads, outSize };
}

/**
 * resolveWindow's arithmetic along one symbolic spatial dim, exact for every size: the static rules rewritten
 * in floor divisions. SAME: out = ceil(H/s) and the total pad max(0, v) with v = (out-1)*s + dk - H; as
 * out*s - H lies in [0, s-1], v >= dk - s, so no clamp is needed when dk >= s, the pad is 0 when dk = 1, and
 * otherwise (v in [dk-s, dk-1]) max(0, v) = v * ((v+s)//s). ceil_mode with pads: c = ceil(span/s) and the
 * static rule drops window c+1 when c*s >= H + pb, i.e. when r = c*s - span reaches m = dk - pe; r lies in
 * [0, s-1], so that is always (m <= 0), never (m >= s), or else the count ceil((H+pb)/s).
 */
function symbolicExtent(size: string, s: number, dk: number, autoPad: AutoPad, explicit: [number, number], ceilMode: boolean): { out: Dim; pads: [Dim, Dim] } {
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = dimCeilDiv(size, s);
    const v = dimSub(dimAdd(dimMul(dimSub(out, 1), s), dk), size);
    const total = dk >= s ? v : dk === 1 ? 0 : dimMul(v, dimFloorDiv(dimAdd(v, s), s));
    const begin = autoPad === 'SAME_UPPER' ? dimFloorDiv(total, 2) : dimCeilDiv(total, 2);
    return { out, pads: [begin, dimSub(total, begin)] };
  }
  const [pb, pe] = autoPad === 'NOTSET' ? explicit : [0, 0];
  const span = dimAdd(size, pb + pe - dk);
  if (!(ceilMode && autoPad === 'NOTSET')) return { out: dimAdd(dimFloorDiv(span, s), 1), pads: [pb, pe] };
  const m = dk - pe;
  const c = dimCeilDiv(span, s);
  return { out: m <= 0 ? c : m >= s ? dimAdd(c, 1) : dimCeilDiv(dimAdd(size, pb), s), pads: [pb, pe] };
}

/**
 * The check resolveWindow makes on a static size, for symbolic ones over their bounds: the window must fit
 * the smallest input (`least` gives a dim's least value). auto_pad SAME windows always fit.
 */
export function checkWindowFits(op: string, attrs: AttrReader, win: Window<Dim>, inSize: readonly Dim[], least: (d: Dim) => number): void {
  const n = inSize.length;
  if (attrs.string('auto_pad').startsWith('SAME')) return;
  inSize.forEach((size, i) => {
    if (typeof size === 'number') return;
    const dk = win.dilations[i]! * (win.kernel[i]! - 1) + 1;
    const pads = (win.pads[i] as number) + (win.pads[i + n] as number);
    const smallest = least(size);
    if (smallest + pads < dk)
      throw new OpError(
        `${op}: window does not fit along spatial dim ${i} when ${size} = ${smallest}: pads ${pads} and the dilated kernel ${dk} ` +
          `need ${size} >= ${dk - pads}; raise its lower bound or specialise it (--dim ${size}=<size>)`,
      );
  });
}

/** Marks a window tap that reads padding. */
export const TAP_IN_PADDING = -1;
/** Marks a tap beyond the end padding, which only ceil_mode windows reach; AveragePool never counts these. */
export const TAP_PAST_PADDING = -2;

/**
 * For every output position and kernel tap, the flat offset of the input element it reads within one spatial
 * plane, or one of the TAP_* markers. Indexed [outPosition * taps + tap], both in row-major order.
 */
export function windowOffsets(win: Window, inSize: readonly number[]): Int32Array {
  const n = inSize.length;
  const taps = numel(win.kernel);
  const result = new Int32Array(numel(win.outSize) * taps);
  const inStrides = rowMajorStrides(inSize);
  let k = 0;
  forEachCoord(win.outSize, (out) => {
    forEachCoord(win.kernel, (tap) => {
      let offset = 0;
      let marker = 0;
      for (let d = 0; d < n; d++) {
        const x = out[d]! * win.strides[d]! - win.pads[d]! + tap[d]! * win.dilations[d]!;
        if (x >= inSize[d]! + win.pads[d + n]!) marker = TAP_PAST_PADDING;
        else if ((x < 0 || x >= inSize[d]!) && marker === 0) marker = TAP_IN_PADDING;
        offset += x * inStrides[d]!;
      }
      result[k++] = marker !== 0 ? marker : offset;
    });
  });
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Coordinates

/**
 * Call fn with every coordinate of `shape` in row-major order, together with its flat index. The coordinate
 * array is reused between calls (an odometer), so copy it if it must outlive the call.
 */
export function forEachCoord(shape: readonly number[], fn: (coord: readonly number[], flat: number) => void): void {
  const total = numel(shape);
  const coord = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    fn(coord, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
}

/** A tensor whose element at each coordinate is value(coord). */
export function tensorFromCoords(dtype: DType, shape: readonly number[], value: (coord: readonly number[]) => number): Tensor {
  const values = new Float64Array(numel(shape));
  forEachCoord(shape, (coord, flat) => {
    values[flat] = value(coord);
  });
  return makeTensor(dtype, shape, values);
}

export function offsetOf(coord: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < coord.length; i++) o += coord[i]! * strides[i]!;
  return o;
}
