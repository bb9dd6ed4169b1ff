// Convolution as ONNX defines it (cross-correlation, no kernel flip): X [N, C, ...spatial] with
// W [M, C/group, ...kernel] and an optional bias B [M]. Written for any number of spatial dims, 2-D being
// the case that matters; channels split into `group` independent groups (group = C is depthwise). Batch and
// spatial dims may be symbolic (the output sizes are then dim expressions); channels and W must be static.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs } from './common.js';
import {
  type Window,
  featureMapDims,
  requireFloat,
  requireSameDType,
  requireStatic,
  resolveWindow,
  typeOfTensor,
  windowOffsets,
} from './shape-util.js';

interface ConvGeometry {
  readonly channels: number;
  readonly filters: number;
  readonly group: number;
  /** Over symbolic spatial dims of X, the output sizes are dims over the same symbols. */
  readonly window: Window<Dim>;
}

/** Check X, W and B against each other and the attributes; the result drives both infer and reference. */
function convGeometry(x: TensorType, w: TensorType, b: TensorType | undefined, attrs: AttrReader): ConvGeometry {
  requireFloat('Conv', x, 'X');
  requireSameDType('Conv', x, 'X', w, 'W');
  if (b) requireSameDType('Conv', x, 'X', b, 'B');
  const { channels, spatial } = featureMapDims('Conv', x);
  if (w.shape.length !== x.shape.length)
    throw new OpError(`Conv: W must be [M, C/group, ...kernel] with the rank of X ${formatShape(x.shape)}, got ${formatShape(w.shape)}`);
  const [filters, groupChannels, ...kernel] = requireStatic('Conv', w.shape, 'W');
  if (typeof channels !== 'number') throw new OpError(`Conv needs static shape: channel dim of X ${formatShape(x.shape)} is symbolic`);
  const group = attrs.int('group');
  if (group < 1 || channels % group !== 0 || filters! % group !== 0)
    throw new OpError(`Conv: group=${group} must be >= 1 and divide both the ${channels} input channels and the ${filters} filters`);
  if (groupChannels! * group !== channels)
    throw new OpError(
      `Conv: X has ${channels} channels, but W ${formatShape(w.shape)} with group=${group} expects ${groupChannels! * group}`,
    );
  const kernelShape = attrs.optInts('kernel_shape');
  if (kernelShape && formatShape(kernelShape) !== formatShape(kernel))
    throw new OpError(`Conv: kernel_shape ${formatShape(kernelShape)} disagrees with W ${formatShape(w.shape)}`);
  if (b && formatShape(b.shape) !== formatShape([filters!]))
    throw new OpError(`Conv: B must be [${filters}] (one bias per filter), got ${formatShape(b.shape)}`);
  return { channels, filters: filters!, group, window: resolveWindow('Conv', attrs, spatial, kernel, false) };
}

registerOp({
  name: 'Conv',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    auto_pad: { kind: 'string', default: 'NOTSET' },
    dilations: { kind: 'ints' },
    group: { kind: 'int', default: 1 },
    kernel_shape: { kind: 'ints' },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const [x, w, b] = checkInputs('Conv', inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    const g = convGeometry(x, w, b, attrs);
    return [tensorType(x.dtype, [x.shape[0]!, g.filters, ...g.window.outSize])];
  },
  reference(inputs, attrs) {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor | undefined];
    const g = convGeometry(typeOfTensor(x), typeOfTensor(w), b && typeOfTensor(b), attrs);
    const batch = x.shape[0]!;
    const inSize = x.shape.slice(2);
    // A concrete tensor's spatial dims are numbers, so the window's are too.
    const window = g.window as Window;
    const plane = numel(inSize);
    const outPlane = numel(window.outSize);
    const taps = numel(window.kernel);
    const offsets = windowOffsets(window, inSize);
    const groupChannels = g.channels / g.group;
    const groupFilters = g.filters / g.group;
    const out = new Float64Array(batch * g.filters * outPlane);
    for (let n = 0; n < batch; n++)
      for (let m = 0; m < g.filters; m++) {
        const firstChannel = Math.floor(m / groupFilters) * groupChannels;
        for (let p = 0; p < outPlane; p++) {
          let acc = b ? b.data[m]! : 0;
          for (let c = 0; c < groupChannels; c++) {
            const xBase = (n * g.channels + firstChannel + c) * plane;
            const wBase = (m * groupChannels + c) * taps;
            for (let t = 0; t < taps; t++) {
              const o = offsets[p * taps + t]!;
              if (o >= 0) acc += x.data[xBase + o]! * w.data[wBase + t]!;
            }
          }
          out[(n * g.filters + m) * outPlane + p] = acc;
        }
      }
    return [makeTensor(x.dtype, [batch, g.filters, ...window.outSize], out)];
  },
});
