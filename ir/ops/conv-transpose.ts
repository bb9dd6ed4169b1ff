// ConvTranspose as ONNX defines it: the adjoint of Conv. X [N, C, ...spatial] with W [C, M/group, ...kernel]
// (note: input channels first, the reverse of Conv's W) and an optional bias B [M]. Every input element
// scatters kernel * x into the output at position * stride + tap * dilation - pad_begin; `pads` crop the full
// result, `output_padding` grows it at the end, and `output_shape` fixes its size, with the begin pads derived
// from it under SAME_UPPER / SAME_LOWER exactly as ONNX's reference implementation does.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, numel, strides as rowMajorStrides } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs } from './common.js';
import {
  AUTO_PADS,
  type AutoPad,
  featureMap,
  forEachCoord,
  requireFloat,
  requireSameDType,
  requireStatic,
  typeOfTensor,
} from './shape-util.js';

interface TransposeGeometry {
  readonly channels: number;
  /** Output channels, M. */
  readonly filters: number;
  readonly group: number;
  readonly inSize: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** How far the full scatter result is cropped at the start of each spatial dim (negative: shifted right). */
  readonly padBegin: readonly number[];
  readonly outSize: readonly number[];
}

/** A per-spatial-dim ints attribute of length n whose entries are at least `min`; `fill` when absent. */
function perDim(attrs: AttrReader, name: string, n: number, fill: number, min: number): number[] {
  const v = attrs.optInts(name);
  if (v === undefined) return new Array<number>(n).fill(fill);
  if (v.length !== n) throw new OpError(`ConvTranspose: ${name} must have ${n} entries (one per spatial dim), got [${v.join(',')}]`);
  if (v.some((x) => x < min)) throw new OpError(`ConvTranspose: ${name} entries must be >= ${min}, got [${v.join(',')}]`);
  return [...v];
}

/** output_shape: the spatial sizes, or (as some exporters write it) the whole [N, M, ...spatial] shape. */
function requestedSize(attrs: AttrReader, n: number): readonly number[] | undefined {
  const v = attrs.optInts('output_shape');
  if (v === undefined) return undefined;
  if (v.length !== n && v.length !== n + 2)
    throw new OpError(`ConvTranspose: output_shape must have ${n} entries (one per spatial dim), got [${v.join(',')}]`);
  return v.slice(v.length - n);
}

function transposeGeometry(x: TensorType, w: TensorType, b: TensorType | undefined, attrs: AttrReader): TransposeGeometry {
  const op = 'ConvTranspose';
  requireFloat(op, x, 'X');
  requireSameDType(op, x, 'X', w, 'W');
  if (b) requireSameDType(op, x, 'X', b, 'B');
  const { channels, spatial } = featureMap(op, x);
  if (w.shape.length !== x.shape.length)
    throw new OpError(`${op}: W must be [C, M/group, ...kernel] with the rank of X ${formatShape(x.shape)}, got ${formatShape(w.shape)}`);
  const [wChannels, groupFilters, ...kernel] = requireStatic(op, w.shape, 'W');
  if (typeof channels !== 'number') throw new OpError(`${op} needs static shape: channel dim of X ${formatShape(x.shape)} is symbolic`);
  const group = attrs.int('group');
  if (group < 1 || channels % group !== 0)
    throw new OpError(`${op}: group=${group} must be >= 1 and divide the ${channels} input channels`);
  if (wChannels !== channels)
    throw new OpError(`${op}: W ${formatShape(w.shape)} must have X's ${channels} input channels first (W is [C, M/group, ...kernel])`);
  const filters = groupFilters! * group;
  const kernelShape = attrs.optInts('kernel_shape');
  if (kernelShape && formatShape(kernelShape) !== formatShape(kernel))
    throw new OpError(`${op}: kernel_shape ${formatShape(kernelShape)} disagrees with W ${formatShape(w.shape)}`);
  if (b && formatShape(b.shape) !== formatShape([filters]))
    throw new OpError(`${op}: B must be [${filters}] (one bias per output channel), got ${formatShape(b.shape)}`);

  const n = spatial.length;
  const autoPad = attrs.string('auto_pad') as AutoPad;
  if (!AUTO_PADS.includes(autoPad)) throw new OpError(`${op}: auto_pad must be one of ${AUTO_PADS.join(', ')}, got '${autoPad}'`);
  const strides = perDim(attrs, 'strides', n, 1, 1);
  const dilations = perDim(attrs, 'dilations', n, 1, 1);
  const outputPadding = perDim(attrs, 'output_padding', n, 0, 0);
  const pads = perDim(attrs, 'pads', 2 * n, 0, 0);
  if (autoPad !== 'NOTSET' && pads.some((p) => p !== 0))
    throw new OpError(`${op}: pads [${pads.join(',')}] cannot be combined with auto_pad=${autoPad}`);
  outputPadding.forEach((p, i) => {
    // As PyTorch requires: more would add output cells that no input element reaches.
    if (p >= strides[i]! && p >= dilations[i]!)
      throw new OpError(
        `${op}: output_padding ${p} on spatial dim ${i} must be smaller than its stride ${strides[i]} or dilation ${dilations[i]}`,
      );
  });
  const requested = requestedSize(attrs, n);
  const padBegin: number[] = [];
  const outSize: number[] = [];
  for (let i = 0; i < n; i++) {
    // The size of the uncropped scatter result, output_padding included.
    const full = strides[i]! * (spatial[i]! - 1) + outputPadding[i]! + dilations[i]! * (kernel[i]! - 1) + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      // ONNX's reference: the target defaults to input * stride; the crop is split with the odd cell at the
      // end for SAME_UPPER and at the start for SAME_LOWER (floor division, so a negative total grows it).
      const target = requested?.[i] ?? spatial[i]! * strides[i]!;
      const total = full - target;
      const half = Math.floor(total / 2);
      padBegin.push(autoPad === 'SAME_UPPER' ? half : total - half);
      outSize.push(target);
    } else {
      // Explicit pads (none for VALID); output_shape, when given, overrides the size and the end pad follows.
      padBegin.push(pads[i]!);
      outSize.push(requested?.[i] ?? full - pads[i]! - pads[i + n]!);
    }
    if (outSize[i]! < 1)
      throw new OpError(
        `${op}: output size ${outSize[i]} on spatial dim ${i} is not positive (input ${spatial[i]}, pads ${pads[i]}+${pads[i + n]})`,
      );
  }
  return { channels, filters, group, inSize: spatial, kernel, strides, dilations, padBegin, outSize };
}

/** For each input position and kernel tap (row-major, [position * taps + tap]), the output offset it adds to, or -1. */
function scatterOffsets(g: TransposeGeometry): Int32Array {
  const taps = numel(g.kernel);
  const result = new Int32Array(numel(g.inSize) * taps);
  const outStrides = rowMajorStrides(g.outSize);
  let k = 0;
  forEachCoord(g.inSize, (p) => {
    forEachCoord(g.kernel, (t) => {
      let offset = 0;
      for (let d = 0; d < p.length && offset >= 0; d++) {
        const o = p[d]! * g.strides[d]! + t[d]! * g.dilations[d]! - g.padBegin[d]!;
        offset = o < 0 || o >= g.outSize[d]! ? -1 : offset + o * outStrides[d]!;
      }
      result[k++] = offset;
    });
  });
  return result;
}

registerOp({
  name: 'ConvTranspose',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    auto_pad: { kind: 'string', default: 'NOTSET' },
    dilations: { kind: 'ints' },
    group: { kind: 'int', default: 1 },
    kernel_shape: { kind: 'ints' },
    output_padding: { kind: 'ints' },
    output_shape: { kind: 'ints' },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const [x, w, b] = checkInputs('ConvTranspose', inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    const g = transposeGeometry(x, w, b, attrs);
    return [tensorType(x.dtype, [x.shape[0]!, g.filters, ...g.outSize])];
  },
  reference(inputs, attrs) {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
    const g = transposeGeometry(typeOfTensor(x), typeOfTensor(w), b && typeOfTensor(b), attrs);
    const batch = x.shape[0]!;
    const inPlane = numel(g.inSize);
    const outPlane = numel(g.outSize);
    const taps = numel(g.kernel);
    const offsets = scatterOffsets(g);
    const groupChannels = g.channels / g.group;
    const groupFilters = g.filters / g.group;
    const out = new Float64Array(batch * g.filters * outPlane);
    for (let n = 0; n < batch; n++)
      for (let m = 0; m < g.filters; m++) {
        const outBase = (n * g.filters + m) * outPlane;
        if (b) out.fill(b.data[m]!, outBase, outBase + outPlane);
        const group = Math.floor(m / groupFilters);
        for (let c = group * groupChannels; c < (group + 1) * groupChannels; c++) {
          const xBase = (n * g.channels + c) * inPlane;
          const wBase = (c * groupFilters + (m % groupFilters)) * taps;
          for (let p = 0; p < inPlane; p++) {
            const v = x.data[xBase + p]!;
            for (let t = 0; t < taps; t++) {
              const o = offsets[p * taps + t]!;
              if (o >= 0) out[outBase + o] = out[outBase + o]! + v * w.data[wBase + t]!;
            }
          }
        }
      }
    return [makeTensor(x.dtype, [batch, g.filters, ...g.outSize], out)];
  },
});
