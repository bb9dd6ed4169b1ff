// RoiAlign (ONNX 10/16/22): for each region of interest (x1, y1, x2, y2 in input coordinates scaled by
// spatial_scale, on image batch_indices[r]), an output_height x output_width grid of bins, each the average
// (or max) of a sampling grid of bilinearly interpolated points. Follows onnx/reference's op_roi_align.py:
//   * half_pixel shifts the scaled corners by -0.5; output_half_pixel (RoiAlign-10's only behaviour) does not,
//     and instead forces a degenerate region to at least 1 x 1;
//   * sampling_ratio 0 samples ceil(roi size / output size) points per bin along each axis;
//   * a point more than one pixel outside the image contributes 0; otherwise it is clamped to the image;
//   * max mode takes the max over the points of the max of the four weighted corner values (ORT's definition).
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';
import { requireFloat } from './shape-util.js';

export interface RoiAlignAttrs {
  readonly max: boolean;
  readonly halfPixel: boolean;
  readonly outH: number;
  readonly outW: number;
  readonly samplingRatio: number;
  readonly spatialScale: number;
}

export function roiAlignAttrs(attrs: AttrReader): RoiAlignAttrs {
  const mode = attrs.string('mode');
  if (mode !== 'avg' && mode !== 'max') throw new OpError(`RoiAlign: mode must be avg or max, got '${mode}'`);
  const ct = attrs.string('coordinate_transformation_mode');
  if (ct !== 'half_pixel' && ct !== 'output_half_pixel')
    throw new OpError(`RoiAlign: coordinate_transformation_mode must be half_pixel or output_half_pixel, got '${ct}'`);
  const [outH, outW, samplingRatio] = [attrs.int('output_height'), attrs.int('output_width'), attrs.int('sampling_ratio')];
  if (outH < 1 || outW < 1) throw new OpError(`RoiAlign: output_height and output_width must be >= 1, got ${outH} and ${outW}`);
  if (samplingRatio < 0) throw new OpError(`RoiAlign: sampling_ratio must be >= 0, got ${samplingRatio}`);
  return { max: mode === 'max', halfPixel: ct === 'half_pixel', outH, outW, samplingRatio, spatialScale: attrs.float('spatial_scale') };
}

/** One sampling point: the 4 corner offsets into the plane and their weights (all 0 when outside). */
interface Point {
  readonly at: readonly [number, number, number, number];
  readonly w: readonly [number, number, number, number];
}

function bilinearPoint(y: number, x: number, height: number, width: number): Point {
  if (y < -1 || y > height || x < -1 || x > width) return { at: [0, 0, 0, 0], w: [0, 0, 0, 0] };
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let [yLow, xLow] = [Math.floor(y), Math.floor(x)];
  let [yHigh, xHigh] = [yLow + 1, xLow + 1];
  if (yLow >= height - 1) [yHigh, yLow, y] = [height - 1, height - 1, height - 1];
  if (xLow >= width - 1) [xHigh, xLow, x] = [width - 1, width - 1, width - 1];
  const [ly, lx] = [y - yLow, x - xLow];
  const [hy, hx] = [1 - ly, 1 - lx];
  return {
    at: [yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh],
    w: [hy * hx, hy * lx, ly * hx, ly * lx],
  };
}

/** The sampling points of bin (ph, pw) of a region given by its four coordinates (already read as numbers). */
export function binPoints(roi: readonly number[], ph: number, pw: number, height: number, width: number, a: RoiAlignAttrs): { points: Point[]; count: number } {
  const off = a.halfPixel ? 0.5 : 0;
  const [x1, y1, x2, y2] = roi.map((v) => v * a.spatialScale - off) as [number, number, number, number];
  let [rw, rh] = [x2 - x1, y2 - y1];
  if (!a.halfPixel) [rw, rh] = [Math.max(rw, 1), Math.max(rh, 1)];
  const [bh, bw] = [rh / a.outH, rw / a.outW];
  const gh = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(rh / a.outH);
  const gw = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(rw / a.outW);
  const points: Point[] = [];
  for (let iy = 0; iy < gh; iy++)
    for (let ix = 0; ix < gw; ix++)
      points.push(bilinearPoint(y1 + ph * bh + ((iy + 0.5) * bh) / gh, x1 + pw * bw + ((ix + 0.5) * bw) / gw, height, width));
  return { points, count: Math.max(gh * gw, 1) };
}

function check(inputs: readonly (TensorType | undefined)[]): [TensorType, TensorType, TensorType] {
  const [x, rois, idx] = checkInputs('RoiAlign', inputs, 3) as [TensorType, TensorType, TensorType];
  requireFloat('RoiAlign', x, 'X');
  requireFloat('RoiAlign', rois, 'rois');
  if (x.shape.length !== 4) throw new OpError(`RoiAlign: X must be [N, C, H, W], got ${formatShape(x.shape)}`);
  if (rois.shape.length !== 2 || rois.shape[1] !== 4) throw new OpError(`RoiAlign: rois must be [num_rois, 4], got ${formatShape(rois.shape)}`);
  if (idx.dtype !== 'i32' && idx.dtype !== 'i64') throw new OpError(`RoiAlign: batch_indices must be i32 or i64, got ${idx.dtype}`);
  if (idx.shape.length !== 1 || (typeof idx.shape[0] === typeof rois.shape[0] && idx.shape[0] !== rois.shape[0]))
    throw new OpError(`RoiAlign: batch_indices must be [num_rois] for rois ${formatShape(rois.shape)}, got ${formatShape(idx.shape)}`);
  if (typeof x.shape[2] !== 'number' || typeof x.shape[3] !== 'number') throw new OpError(`RoiAlign needs static H and W, X is ${formatShape(x.shape)}`);
  return [x, rois, idx];
}

registerOp({
  name: 'RoiAlign',
  inputs: { min: 3, max: 3 },
  outputs: 1,
  attrs: {
    mode: { kind: 'string', default: 'avg' },
    output_height: { kind: 'int', default: 1 },
    output_width: { kind: 'int', default: 1 },
    sampling_ratio: { kind: 'int', default: 0 },
    spatial_scale: { kind: 'float', default: 1 },
    coordinate_transformation_mode: { kind: 'string', default: 'half_pixel' },
  },
  infer(inputs, attrs) {
    const [x, rois] = check(inputs);
    const a = roiAlignAttrs(attrs);
    return [tensorType(x.dtype, [rois.shape[0]!, x.shape[1]!, a.outH, a.outW])];
  },
  reference(inputs, attrs, outTypes) {
    const [x, rois, idx] = inputs as [Tensor, Tensor, Tensor];
    const a = roiAlignAttrs(attrs);
    const [batch, channels, height, width] = x.shape as [number, number, number, number];
    const outShape = staticShape(outTypes[0]!);
    const plane = height * width;
    const out = new Float64Array(numel(outShape));
    for (let r = 0; r < outShape[0]!; r++) {
      const b = idx.data[r]!;
      if (b < 0 || b >= batch) throw new OpError(`RoiAlign: batch index ${b} of roi ${r} is out of range for X of batch ${batch}`);
      const roi = Array.from(rois.data.subarray(r * 4, r * 4 + 4));
      for (let ph = 0; ph < a.outH; ph++)
        for (let pw = 0; pw < a.outW; pw++) {
          const { points, count } = binPoints(roi, ph, pw, height, width, a);
          for (let c = 0; c < channels; c++) {
            const base = (b * channels + c) * plane;
            let acc = 0;
            points.forEach((p, i) => {
              const v = p.w.map((w, j) => w * x.data[base + p.at[j]!]!);
              acc = a.max ? (i === 0 ? Math.max(...v) : Math.max(acc, ...v)) : acc + v[0]! + v[1]! + v[2]! + v[3]!;
            });
            out[((r * channels + c) * a.outH + ph) * a.outW + pw] = a.max ? acc : acc / count;
          }
        }
    }
    return [makeTensor(x.dtype, outShape, out)];
  },
});
