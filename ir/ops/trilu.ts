// Trilu: keep the upper (or lower) triangle of the last two dims and zero the rest; leading dims are a batch.
// ONNX takes k as an optional input; it is an attribute here (the importer folds the constant), so which
// elements survive is known when the graph is built. Any dtype, kept; zero is false for bool.
import { OpError, registerOp } from '../op.js';
import { formatShape } from '../shape.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr } from './common.js';

/**
 * Whether element (i, j) of a matrix survives: on or above the k-th diagonal for upper, on or below it for
 * lower. k > 0 moves the diagonal right (above the main one), k < 0 left, as in numpy.triu/tril.
 */
export function triluKeeps(upper: boolean, k: number, i: number, j: number): boolean {
  return upper ? j - i >= k : j - i <= k;
}

registerOp({
  name: 'Trilu',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    upper: { kind: 'int', default: 1 },
    k: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('Trilu', inputs, 1) as [TensorType];
    flagAttr('Trilu', attrs, 'upper');
    if (x.shape.length < 2) throw new OpError(`Trilu needs an input of rank >= 2 (a batch of matrices), got ${formatShape(x.shape)}`);
    // Only the matrix dims enter the mask; batch dims may stay symbolic and the reference sees concrete ones.
    return [tensorType(x.dtype, x.shape)];
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const upper = flagAttr('Trilu', attrs, 'upper');
    const k = attrs.int('k');
    const rows = x.shape[x.shape.length - 2]!;
    const cols = x.shape[x.shape.length - 1]!;
    return [
      makeTensor(x.dtype, x.shape, (flat) => {
        const j = flat % cols;
        const i = Math.floor(flat / cols) % rows;
        return triluKeeps(upper, k, i, j) ? x.data[flat]! : 0;
      }),
    ];
  },
});
