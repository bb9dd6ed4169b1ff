// Pooling over the spatial dims of X [N, C, ...spatial], each channel on its own. The window geometry
// (auto_pad, pads, strides, dilations, ceil_mode) is shared with Conv through resolveWindow; over symbolic
// spatial dims the output sizes are dim expressions.
//
// MaxPool has only its values output: ONNX's optional second output, Indices, is not supported, so a node
// must name exactly one output. storage_order only affects Indices; it is accepted (0 or 1) and ignored.
// LpPool is (sum of |x|^p over the window)^(1/p); padding adds nothing to the sum.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr } from './common.js';
import {
  TAP_PAST_PADDING,
  type Window,
  featureMapDims,
  requireFloat,
  resolveWindow,
  typeOfTensor,
  windowOffsets,
} from './shape-util.js';

/** The window over X's spatial dims, which may be symbolic (its output sizes are then dims too). */
function poolWindowDims(op: string, x: TensorType, attrs: AttrReader): Window<Dim> {
  requireFloat(op, x, 'X');
  const { spatial } = featureMapDims(op, x);
  const kernel = attrs.ints('kernel_shape');
  if (kernel.length !== spatial.length || kernel.some((k) => k < 1))
    throw new OpError(`${op}: kernel_shape must have ${spatial.length} entries >= 1 (one per spatial dim), got [${kernel.join(',')}]`);
  return resolveWindow(op, attrs, spatial, kernel, flagAttr(op, attrs, 'ceil_mode'));
}

/** The window over a concrete tensor's spatial dims (all numbers, so the window's are too), for reference(). */
function poolWindow(op: string, x: Tensor, attrs: AttrReader): { inSize: number[]; window: Window } {
  return { inSize: x.shape.slice(2), window: poolWindowDims(op, typeOfTensor(x), attrs) as Window };
}

const pooledType = (op: string, x: TensorType, attrs: AttrReader): TensorType =>
  tensorType(x.dtype, [x.shape[0]!, x.shape[1]!, ...poolWindowDims(op, x, attrs).outSize]);

/**
 * Run `reduce` over every window of every (n, c) plane of x. It receives the window's tap offsets (into the
 * plane starting at `base`), which may hold TAP_* markers for padding.
 */
function poolPlanes(
  x: Tensor,
  inSize: readonly number[],
  window: Window,
  reduce: (base: number, taps: Int32Array) => number,
): Tensor {
  const [batch, channels] = x.shape as [number, number];
  const plane = numel(inSize);
  const outPlane = numel(window.outSize);
  const tapCount = numel(window.kernel);
  const offsets = windowOffsets(window, inSize);
  const out = new Float64Array(batch * channels * outPlane);
  for (let nc = 0; nc < batch * channels; nc++)
    for (let p = 0; p < outPlane; p++)
      out[nc * outPlane + p] = reduce(nc * plane, offsets.subarray(p * tapCount, (p + 1) * tapCount));
  return makeTensor(x.dtype, [batch, channels, ...window.outSize], out);
}

const windowAttrs = {
  auto_pad: { kind: 'string', default: 'NOTSET' },
  ceil_mode: { kind: 'int', default: 0 },
  dilations: { kind: 'ints' },
  kernel_shape: { kind: 'ints', required: true },
  pads: { kind: 'ints' },
  strides: { kind: 'ints' },
} as const;

registerOp({
  name: 'MaxPool',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { ...windowAttrs, storage_order: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [x] = checkInputs('MaxPool', inputs, 1) as [TensorType];
    flagAttr('MaxPool', attrs, 'storage_order');
    return [pooledType('MaxPool', x, attrs)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const { inSize, window } = poolWindow('MaxPool', x, attrs);
    // Padding never wins (it counts as -inf); a NaN in the window wins, as in PyTorch. Math.max, as ReduceMax
    // and Max use: -0 < +0, so a window holding both gives +0 whatever their order.
    return [
      poolPlanes(x, inSize, window, (base, taps) => {
        let best = -Infinity;
        for (const o of taps) {
          if (o < 0) continue;
          best = Math.max(best, x.data[base + o]!);
          if (Number.isNaN(best)) break;
        }
        return best;
      }),
    ];
  },
});

registerOp({
  name: 'AveragePool',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { ...windowAttrs, count_include_pad: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [x] = checkInputs('AveragePool', inputs, 1) as [TensorType];
    flagAttr('AveragePool', attrs, 'count_include_pad');
    return [pooledType('AveragePool', x, attrs)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const { inSize, window } = poolWindow('AveragePool', x, attrs);
    const includePad = flagAttr('AveragePool', attrs, 'count_include_pad');
    // With count_include_pad the divisor counts pad cells but, as in PyTorch, not the cells past the end
    // padding that a ceil_mode window can reach.
    return [
      poolPlanes(x, inSize, window, (base, taps) => {
        let sum = 0;
        let count = 0;
        for (const o of taps) {
          if (o >= 0) {
            sum += x.data[base + o]!;
            count++;
          } else if (includePad && o !== TAP_PAST_PADDING) count++;
        }
        return sum / count;
      }),
    ];
  },
});

registerOp({
  name: 'LpPool',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { ...windowAttrs, p: { kind: 'float', default: 2 } },
  infer(inputs, attrs) {
    const [x] = checkInputs('LpPool', inputs, 1) as [TensorType];
    lpExponent(attrs);
    return [pooledType('LpPool', x, attrs)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const p = lpExponent(attrs);
    const { inSize, window } = poolWindow('LpPool', x, attrs);
    return [
      poolPlanes(x, inSize, window, (base, taps) => {
        let sum = 0;
        for (const o of taps) if (o >= 0) sum += Math.abs(x.data[base + o]!) ** p;
        return sum ** (1 / p);
      }),
    ];
  },
});

/** LpPool's p: a positive, finite exponent. */
function lpExponent(attrs: AttrReader): number {
  const p = attrs.float('p');
  if (!(p > 0) || !Number.isFinite(p)) throw new OpError(`LpPool: p must be a positive number, got ${p}`);
  return p;
}

registerOp({
  name: 'GlobalAveragePool',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [x] = checkInputs('GlobalAveragePool', inputs, 1) as [TensorType];
    requireFloat('GlobalAveragePool', x, 'X');
    if (x.shape.length < 3)
      throw new OpError(`GlobalAveragePool: X must be [N, C, ...spatial] with at least one spatial dim, got rank ${x.shape.length}`);
    // Only the reduced dims' sizes matter at run time, so symbolic spatial dims are fine here.
    return [tensorType(x.dtype, [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)])];
  },
  reference(inputs) {
    const x = inputs[0]!;
    const [batch, channels, ...spatial] = x.shape as [number, number, ...number[]];
    const plane = numel(spatial);
    const out = new Float64Array(batch * channels);
    for (let nc = 0; nc < batch * channels; nc++) {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += x.data[nc * plane + i]!;
      out[nc] = sum / plane;
    }
    return [makeTensor(x.dtype, [batch, channels, ...spatial.map(() => 1)], out)];
  },
});
