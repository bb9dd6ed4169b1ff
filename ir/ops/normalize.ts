// Normalisations: Softmax, LogSoftmax, LayerNormalization and inference-mode BatchNormalization. Each is one op
// in the IR (not a decomposition) so kernels can fuse the statistics pass; the references compute in float64
// and round once to the output dtype.
import { isFloat } from '../dtype.js';
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, shapesEqual } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, checkBroadcastsTo, checkInputs, flagAttr, resolveAxis, splitAtAxis, staticShape } from './common.js';

function checkFloat(op: string, what: string, t: TensorType, like?: TensorType): void {
  if (like ? t.dtype !== like.dtype : !isFloat(t.dtype))
    throw new OpError(`${op} needs ${what} of ${like ? `dtype ${like.dtype} (as X)` : 'a float dtype'}, got ${t.dtype}`);
}

/**
 * Softmax (or LogSoftmax) along the middle axis of data viewed as [outer, len, inner], in float64. The max is
 * subtracted before exponentiating so no exp overflows; a slice holding +inf, or only -inf, therefore gives NaN.
 * Exported so tests can check float64 properties before rounding to a dtype.
 */
export function softmax64(data: ArrayLike<number>, outer: number, len: number, inner: number, log: boolean): Float64Array {
  const y = new Float64Array(outer * len * inner);
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < inner; j++) {
      const base = o * len * inner + j;
      let max = -Infinity;
      for (let k = 0; k < len; k++) max = Math.max(max, data[base + k * inner]!);
      let sum = 0;
      for (let k = 0; k < len; k++) sum += Math.exp(data[base + k * inner]! - max);
      const logSum = Math.log(sum);
      for (let k = 0; k < len; k++) {
        const i = base + k * inner;
        y[i] = log ? data[i]! - max - logSum : Math.exp(data[i]! - max) / sum;
      }
    }
  return y;
}

// Softmax and LogSoftmax over one axis (ONNX opset 13 semantics, not the older flatten-to-2D form).
for (const log of [false, true]) {
  const name = log ? 'LogSoftmax' : 'Softmax';
  registerOp({
    name,
    inputs: { min: 1, max: 1 },
    outputs: 1,
    attrs: { axis: { kind: 'int', default: -1 } },
    infer(inputs, attrs) {
      const x = checkInputs(name, inputs, 1)[0]!;
      checkFloat(name, 'an input', x);
      resolveAxis(name, attrs.int('axis'), x.shape.length);
      return [tensorType(x.dtype, x.shape)];
    },
    reference(inputs, attrs) {
      const x = inputs[0] as Tensor;
      const { outer, len, inner } = splitAtAxis(x.shape, resolveAxis(name, attrs.int('axis'), x.shape.length));
      return [makeTensor(x.dtype, x.shape, softmax64(x.data, outer, len, inner, log))];
    },
  });
}

// LayerNormalization(X, Scale, B?) normalises over axes [axis, rank). ONNX also defines Mean and InvStdDev
// outputs for training; the IR keeps only Y, so importers must reject models that use the others. stash_type
// (ONNX's accumulation precision) is accepted and ignored: the reference accumulates in float64, at least as
// precise as any stash type.
registerOp({
  name: 'LayerNormalization',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    axis: { kind: 'int', default: -1 },
    epsilon: { kind: 'float', default: 1e-5 },
    stash_type: { kind: 'int', default: 1 },
  },
  infer(inputs, attrs) {
    const [x, scale, bias] = checkInputs('LayerNormalization', inputs, 2, 3) as [TensorType, TensorType, TensorType?];
    checkFloat('LayerNormalization', 'X', x);
    const axis = resolveAxis('LayerNormalization', attrs.int('axis'), x.shape.length);
    const normShape = x.shape.slice(axis);
    checkFloat('LayerNormalization', 'Scale', scale, x);
    checkBroadcastsTo('LayerNormalization', 'Scale', scale.shape, normShape);
    if (bias) {
      checkFloat('LayerNormalization', 'B', bias, x);
      checkBroadcastsTo('LayerNormalization', 'B', bias.shape, normShape);
    }
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const [x, scale, bias] = inputs as [Tensor, Tensor, Tensor?];
    const axis = resolveAxis('LayerNormalization', attrs.int('axis'), x.shape.length);
    const eps = attrs.float('epsilon');
    const normShape = x.shape.slice(axis);
    const inner = normShape.reduce((a, b) => a * b, 1);
    const rows = inner === 0 ? 0 : x.data.length / inner;
    const so = broadcastOffsets(scale.shape, normShape);
    const bo = bias ? broadcastOffsets(bias.shape, normShape) : undefined;
    const y = new Float64Array(x.data.length);
    for (let r = 0; r < rows; r++) {
      const base = r * inner;
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += x.data[base + k]!;
      const mean = sum / inner;
      // Two-pass variance: no cancellation between E[x²] and E[x]².
      let sq = 0;
      for (let k = 0; k < inner; k++) sq += (x.data[base + k]! - mean) ** 2;
      const inv = 1 / Math.sqrt(sq / inner + eps);
      for (let k = 0; k < inner; k++) {
        const b = bias && bo ? bias.data[bo[k]!]! : 0;
        y[base + k] = (x.data[base + k]! - mean) * inv * scale.data[so[k]!]! + b;
      }
    }
    return [makeTensor(x.dtype, x.shape, y)];
  },
});

function batchNormTraining(op: string, attrs: AttrReader): void {
  if (flagAttr(op, attrs, 'training_mode'))
    throw new OpError('training-mode BatchNormalization is not supported; export the model in eval mode');
}

// BatchNormalization(X, scale, B, input_mean, input_var) in inference mode: per-channel affine map with the
// running statistics, channels on axis 1 of X = (N, C, D1, ...). momentum only matters when training and is
// accepted for schema compatibility; only the Y output exists.
registerOp({
  name: 'BatchNormalization',
  inputs: { min: 5, max: 5 },
  outputs: 1,
  attrs: {
    epsilon: { kind: 'float', default: 1e-5 },
    momentum: { kind: 'float', default: 0.9 },
    training_mode: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const op = 'BatchNormalization';
    batchNormTraining(op, attrs);
    const ts = checkInputs(op, inputs, 5) as TensorType[];
    const x = ts[0]!;
    checkFloat(op, 'X', x);
    if (x.shape.length < 2) throw new OpError(`${op} needs X of rank >= 2 (N, C, ...), got ${formatShape(x.shape)}`);
    const channels = [x.shape[1]!];
    ['scale', 'B', 'input_mean', 'input_var'].forEach((what, k) => {
      const t = ts[k + 1]!;
      checkFloat(op, what, t, x);
      if (!shapesEqual(t.shape, channels))
        throw new OpError(`${op} needs ${what} of shape ${formatShape(channels)} (X's channels), got ${formatShape(t.shape)}`);
    });
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs, outTypes) {
    const [x, scale, bias, mean, variance] = inputs as Tensor[];
    const eps = attrs.float('epsilon');
    const { outer, len: channels, inner } = splitAtAxis(x!.shape, 1);
    const y = new Float64Array(x!.data.length);
    for (let c = 0; c < channels; c++) {
      // Not folded into one multiply-add: x·k + (B − mean·k) cancels badly when x is close to a large mean,
      // and the reference is the oracle kernels (folded or not) are measured against.
      const m = mean!.data[c]!;
      const k = scale!.data[c]! / Math.sqrt(variance!.data[c]! + eps);
      const b = bias!.data[c]!;
      for (let n = 0; n < outer; n++)
        for (let j = 0; j < inner; j++) {
          const i = (n * channels + c) * inner + j;
          y[i] = (x!.data[i]! - m) * k + b;
        }
    }
    return [makeTensor(x!.dtype, staticShape(outTypes[0]!), y)];
  },
});
