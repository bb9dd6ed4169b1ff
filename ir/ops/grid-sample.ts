// GridSample (ONNX 16/20/22): Y[n, c, ...o] samples X[n, c] at the normalised location grid[n, ...o, :] (x
// first, i.e. the innermost spatial dim, as in PyTorch). Any number of spatial dims; cubic only in 2-D. The
// semantics are onnx/reference's op_grid_sample.py: coordinates are denormalised (align_corners maps -1/1 to the
// centres of the corner pixels, else to their outer edges); nearest rounds half to even (nearbyint: the ONNX
// conformance data does so in 3-D too, where the Python reference's comment says std::round); a coordinate
// outside the border range is clamped (border) or reflected (reflection) first, and then every tap outside the
// input reads 0 (zeros), the nearest edge pixel (border) or its reflection (reflection). Interpolation is
// separable: linear takes 2 taps per dim, cubic 4 (Keys, a = -0.75). The importer maps ONNX 16's
// bilinear/bicubic onto linear/cubic.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, staticShape } from './common.js';
import { requireFloat } from './shape-util.js';

export const GRID_MODES = ['linear', 'nearest', 'cubic'] as const;
export const GRID_PADDING = ['zeros', 'border', 'reflection'] as const;
export type GridMode = (typeof GRID_MODES)[number];
export type GridPadding = (typeof GRID_PADDING)[number];

export interface GridSampleAttrs {
  readonly mode: GridMode;
  readonly padding: GridPadding;
  readonly alignCorners: boolean;
}

function oneOf<T extends string>(attrs: AttrReader, name: string, allowed: readonly T[]): T {
  const v = attrs.string(name);
  if (!(allowed as readonly string[]).includes(v)) throw new OpError(`GridSample: ${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function gridSampleAttrs(attrs: AttrReader): GridSampleAttrs {
  return { mode: oneOf(attrs, 'mode', GRID_MODES), padding: oneOf(attrs, 'padding_mode', GRID_PADDING), alignCorners: flagAttr('GridSample', attrs, 'align_corners') };
}

/** The range a coordinate must lie in before clamping or reflection: pixel centres, or the outer edges. */
export const borderRange = (len: number, alignCorners: boolean): [number, number] => (alignCorners ? [0, len - 1] : [-0.5, len - 0.5]);

/** Reflect x into [lo, hi] by folding at the nearer border until inside (onnx/reference _gs_reflect). */
export function reflect(x: number, lo: number, hi: number): number {
  const span = hi - lo;
  if (span <= 0) return lo; // a one-pixel axis with align_corners: every position is that pixel
  if (x >= lo && x <= hi) return x;
  const d = x < lo ? lo - x : x - hi;
  const n = Math.trunc(d / span);
  const r = d - n * span;
  return (x < lo) === (n % 2 === 0) ? lo + r : hi - r;
}

/** Keys cubic convolution weights (a = -0.75) of the 4 taps floor(x)-1 .. floor(x)+2, given t = x - floor(x). */
export function cubicWeights(t: number): number[] {
  const a = -0.75;
  const near = (s: number): number => ((a + 2) * s - (a + 3)) * s * s + 1;
  const far = (s: number): number => ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/** Round half to even (nearbyint, PyTorch's 2-D nearest). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The source coordinate along one axis of length `len` for normalised grid value g, after padding adjustment. */
export function sourceCoordinate(g: number, len: number, a: GridSampleAttrs): number {
  let x = a.alignCorners ? ((g + 1) / 2) * (len - 1) : ((g + 1) * len - 1) / 2;
  if (a.mode === 'nearest') x = roundHalfEven(x);
  const [lo, hi] = borderRange(len, a.alignCorners);
  if (x < lo || x > hi) {
    if (a.padding === 'border') x = Math.min(Math.max(x, 0), len - 1);
    else if (a.padding === 'reflection') x = reflect(x, lo, hi);
  }
  return x;
}

/** Taps (integer positions) and weights along one axis for a source coordinate. */
export function axisTaps(x: number, mode: GridMode): { at: number[]; w: number[] } {
  if (mode === 'nearest') return { at: [Math.trunc(x)], w: [1] };
  const x0 = Math.floor(x);
  const t = x - x0;
  if (mode === 'linear') return { at: [x0, x0 + 1], w: [1 - t, t] };
  return { at: [x0 - 1, x0, x0 + 1, x0 + 2], w: cubicWeights(t) };
}

/** Where tap i of an axis of length `len` reads, or -1 for a zero (zeros padding outside the input). */
export function tapIndex(i: number, len: number, a: GridSampleAttrs): number {
  if (i >= 0 && i < len) return i;
  if (a.padding === 'zeros') return -1;
  if (a.padding === 'border') return Math.min(Math.max(i, 0), len - 1);
  const [lo, hi] = borderRange(len, a.alignCorners);
  return Math.trunc(reflect(i, lo, hi));
}

function check(inputs: readonly (TensorType | undefined)[], attrs: AttrReader): { x: TensorType; grid: TensorType; a: GridSampleAttrs } {
  const [x, grid] = checkInputs('GridSample', inputs, 2) as [TensorType, TensorType];
  requireFloat('GridSample', x, 'X');
  requireFloat('GridSample', grid, 'grid');
  const a = gridSampleAttrs(attrs);
  const nd = x.shape.length - 2;
  if (nd < 1) throw new OpError(`GridSample: X must be [N, C, ...spatial], got ${formatShape(x.shape)}`);
  if (grid.shape.length !== nd + 2 || grid.shape[nd + 1] !== nd)
    throw new OpError(`GridSample: grid must be [N, ...out spatial (${nd} dims), ${nd}] for X ${formatShape(x.shape)}, got ${formatShape(grid.shape)}`);
  const [nx, ng] = [x.shape[0], grid.shape[0]];
  if (typeof nx === typeof ng && nx !== ng)
    throw new OpError(`GridSample: X ${formatShape(x.shape)} and grid ${formatShape(grid.shape)} differ in batch`);
  if (a.mode === 'cubic' && nd !== 2) throw new OpError(`GridSample: cubic mode needs 2 spatial dims, X ${formatShape(x.shape)} has ${nd}`);
  if (x.shape.slice(2).some((d) => typeof d !== 'number')) throw new OpError(`GridSample needs static spatial dims, X is ${formatShape(x.shape)}`);
  return { x, grid, a };
}

registerOp({
  name: 'GridSample',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: {
    mode: { kind: 'string', default: 'linear' },
    padding_mode: { kind: 'string', default: 'zeros' },
    align_corners: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const { x, grid } = check(inputs, attrs);
    return [tensorType(x.dtype, [x.shape[0]!, x.shape[1]!, ...grid.shape.slice(1, -1)])];
  },
  reference(inputs, attrs, outTypes) {
    const [x, grid] = inputs as [Tensor, Tensor];
    const a = gridSampleAttrs(attrs);
    const [batch, channels, ...dims] = x.shape as number[];
    const nd = dims.length;
    const outShape = staticShape(outTypes[0]!);
    const points = numel(outShape.slice(2));
    const plane = numel(dims);
    const out = new Float64Array(numel(outShape));
    for (let n = 0; n < batch!; n++)
      for (let p = 0; p < points; p++) {
        // Grid components are x, y, z: component i addresses spatial dim nd - 1 - i.
        const taps = dims.map((len, d) => {
          const t = axisTaps(sourceCoordinate(grid.data[(n * points + p) * nd + (nd - 1 - d)]!, len, a), a.mode);
          return { at: t.at.map((i) => tapIndex(i, len, a)), w: t.w };
        });
        for (let c = 0; c < channels!; c++) {
          const base = (n * channels! + c) * plane;
          // Separable: the sum over every tap combination of the product of the per-axis weights.
          const visit = (d: number, offset: number, w: number): number => {
            if (d === nd) return w * x.data[base + offset]!;
            let s = 0;
            const { at, w: ws } = taps[d]!;
            // A tap outside the input under zeros padding reads 0; zero weights still multiply (0 * inf is NaN).
            for (let k = 0; k < at.length; k++) s += at[k]! < 0 ? w * ws[k]! * 0 : visit(d + 1, offset * dims[d]! + at[k]!, w * ws[k]!);
            return s;
          };
          out[(n * channels! + c) * points + p] = visit(0, 0, 1);
        }
      }
    return [makeTensor(x.dtype, outShape, out)];
  },
});
