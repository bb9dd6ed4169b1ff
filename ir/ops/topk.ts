// TopK: the k largest (or, with largest=0, smallest) elements along one axis and their indices (i32 where ONNX
// has int64). The order is ONNX's reference order: by value, ties broken by the lower index, NaN counting as
// larger than every number (first among the largest, last among the smallest). k is an attribute, so the output
// shape is static; sorted=0 lets ONNX return any order, and kiln returns the sorted one.
import { dtypeInfo } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, resolveAxis, splitAtAxis } from './common.js';

/** Whether element (a, ai) comes before (b, bi) in TopK's output order. */
export function topKBefore(a: number, ai: number, b: number, bi: number, largest: boolean): boolean {
  const [na, nb] = [Number.isNaN(a), Number.isNaN(b)];
  if (na || nb) return na && nb ? ai < bi : largest ? na : nb;
  if (a === b) return ai < bi;
  return largest ? a > b : a < b;
}

registerOp({
  name: 'TopK',
  inputs: { min: 1, max: 1 },
  outputs: 2,
  attrs: {
    k: { kind: 'int', required: true },
    axis: { kind: 'int', default: -1 },
    largest: { kind: 'int', default: 1 },
    sorted: { kind: 'int', default: 1 },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('TopK', inputs, 1) as [TensorType];
    const kind = dtypeInfo(x.dtype).kind;
    if (kind !== 'float' && kind !== 'int') throw new OpError(`TopK needs a float or int input, got ${x.dtype}`);
    const axis = resolveAxis('TopK', attrs.int('axis'), x.shape.length);
    flagAttr('TopK', attrs, 'largest');
    flagAttr('TopK', attrs, 'sorted');
    const k = attrs.int('k');
    const len = x.shape[axis]!;
    if (typeof len !== 'number') throw new OpError(`TopK needs static shape: axis ${axis} of [${x.shape.join(',')}] is symbolic`);
    if (k < 0 || k > len) throw new OpError(`TopK: k = ${k} is outside 0..${len}, the elements along axis ${axis}`);
    const shape = x.shape.map((d, a) => (a === axis ? k : d));
    return [tensorType(x.dtype, shape), tensorType('i32', shape)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const axis = resolveAxis('TopK', attrs.int('axis'), x.shape.length);
    const largest = flagAttr('TopK', attrs, 'largest');
    const k = attrs.int('k');
    const { outer, len, inner } = splitAtAxis(x.shape, axis);
    const values = new Float64Array(outer * k * inner);
    const indices = new Float64Array(outer * k * inner);
    const order = Array.from({ length: len }, (_, i) => i);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < inner; j++) {
        const at = (i: number): number => x.data[(o * len + i) * inner + j]!;
        const sorted = [...order].sort((a, b) => (topKBefore(at(a), a, at(b), b, largest) ? -1 : 1));
        for (let r = 0; r < k; r++) {
          values[(o * k + r) * inner + j] = at(sorted[r]!);
          indices[(o * k + r) * inner + j] = sorted[r]!;
        }
      }
    const shape = x.shape.map((d, a) => (a === axis ? k : d));
    return [makeTensor(x.dtype, shape, values), makeTensor('i32', shape, indices)];
  },
});
