// CumSum: running sums along one axis, as ONNX defines it, with the axis an attribute (ONNX takes it as a
// constant input; the importer folds it). `exclusive` leaves each element out of its own sum (shifting the
// sums by one, starting from 0) and `reverse` runs from the end of the axis towards its start. Sums accumulate
// in float64 and are rounded once per element, so integer results wrap as a GPU's running sum would.
import { dtypeInfo } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, resolveAxis, splitAtAxis } from './common.js';

registerOp({
  name: 'CumSum',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    axis: { kind: 'int', required: true },
    exclusive: { kind: 'int', default: 0 },
    reverse: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('CumSum', inputs, 1) as [TensorType];
    const kind = dtypeInfo(x.dtype).kind;
    if (kind !== 'float' && kind !== 'int') throw new OpError(`CumSum needs a float or int input, got ${x.dtype}`);
    resolveAxis('CumSum', attrs.int('axis'), x.shape.length);
    flagAttr('CumSum', attrs, 'exclusive');
    flagAttr('CumSum', attrs, 'reverse');
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const axis = resolveAxis('CumSum', attrs.int('axis'), x.shape.length);
    const exclusive = flagAttr('CumSum', attrs, 'exclusive');
    const reverse = flagAttr('CumSum', attrs, 'reverse');
    const { outer, len, inner } = splitAtAxis(x.shape, axis);
    const out = new Float64Array(x.data.length);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < inner; j++) {
        let acc = 0;
        for (let step = 0; step < len; step++) {
          const at = o * len * inner + (reverse ? len - 1 - step : step) * inner + j;
          // Inclusive adds before writing, exclusive after: the same loop either way.
          if (!exclusive) acc += x.data[at]!;
          out[at] = acc;
          if (exclusive) acc += x.data[at]!;
        }
      }
    return [makeTensor(x.dtype, x.shape, out)];
  },
});
