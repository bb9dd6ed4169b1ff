// ReverseSequence(input, sequence_lens): for each batch entry b (along batch_axis), the first sequence_lens[b]
// elements along time_axis are reversed and the rest kept, as ONNX 10 defines it. The two axes are 0 and 1 in
// either order. A length outside 0..time is an error here (the GPU kernel clamps it, see its file).
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, strides } from '../shape.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs } from './common.js';
import { requireIndices, sameDim } from './index-util.js';
import { forEachCoord, offsetOf } from './shape-util.js';

function axesOf(attrs: AttrReader): { batch: number; time: number } {
  const [batch, time] = [attrs.int('batch_axis'), attrs.int('time_axis')];
  if (![0, 1].includes(batch) || ![0, 1].includes(time) || batch === time)
    throw new OpError(`ReverseSequence: batch_axis and time_axis must be 0 and 1 in some order, got ${batch} and ${time}`);
  return { batch, time };
}

registerOp({
  name: 'ReverseSequence',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { batch_axis: { kind: 'int', default: 1 }, time_axis: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [x, lens] = checkInputs('ReverseSequence', inputs, 2) as [TensorType, TensorType];
    const { batch } = axesOf(attrs);
    if (x.shape.length < 2) throw new OpError(`ReverseSequence needs an input of rank >= 2, got ${formatShape(x.shape)}`);
    requireIndices('ReverseSequence', lens, 'sequence_lens');
    if (lens.shape.length !== 1) throw new OpError(`ReverseSequence: sequence_lens must be [batch], got ${formatShape(lens.shape)}`);
    sameDim('ReverseSequence', lens.shape[0]!, x.shape[batch]!, 'sequence_lens needs one length per batch entry');
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const [x, lens] = [inputs[0]!, inputs[1]!];
    const { batch, time } = axesOf(attrs);
    const T = x.shape[time]!;
    const s = strides(x.shape);
    const out = new Float64Array(x.data.length);
    forEachCoord(x.shape, (c, k) => {
      const len = lens.data[c[batch]!]!;
      if (len < 0 || len > T) throw new OpError(`ReverseSequence: sequence_lens[${c[batch]}] = ${len} is outside 0..${T} (the time axis)`);
      const t = c[time]!;
      out[k] = x.data[t < len ? offsetOf(c, s) + (len - 1 - 2 * t) * s[time]! : k]!;
    });
    return [makeTensor(x.dtype, x.shape, out)];
  },
});
