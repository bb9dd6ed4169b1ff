// OneHot(indices, values[off, on]) -> values' dtype, indices' shape with a new axis of `depth` at `axis`: `on`
// where the new axis' coordinate equals the index, `off` elsewhere. As in ONNX, depth is known (an attribute
// here), non-integer indices truncate toward zero, a negative index counts from the end when `negative` is 1
// (opset 11) and indices outside the range give an all-`off` row rather than an error.
import { dtypeInfo } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { formatShape } from '../shape.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, flagAttr, resolveAxis, staticShape } from './common.js';
import { tensorFromCoords } from './shape-util.js';

/** The index a OneHot input value selects, or -1 for none (out of range, NaN). */
export function oneHotIndex(v: number, depth: number, negative: boolean): number {
  const i = Math.trunc(v);
  if (negative && i < 0 && i >= -depth) return i + depth;
  return i >= 0 && i < depth ? i : -1;
}

registerOp({
  name: 'OneHot',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { depth: { kind: 'int', required: true }, axis: { kind: 'int', default: -1 }, negative: { kind: 'int', default: 1 } },
  infer(inputs, attrs) {
    const [indices, values] = checkInputs('OneHot', inputs, 2) as [TensorType, TensorType];
    const kind = dtypeInfo(indices.dtype).kind;
    if (kind !== 'int' && kind !== 'float') throw new OpError(`OneHot: indices must be numeric, got ${indices.dtype}`);
    if (values.shape.length !== 1 || values.shape[0] !== 2)
      throw new OpError(`OneHot: values must be [off_value, on_value] (shape [2]), got ${formatShape(values.shape)}`);
    const depth = attrs.int('depth');
    if (depth < 1) throw new OpError(`OneHot: depth must be at least 1, got ${depth}`);
    flagAttr('OneHot', attrs, 'negative');
    const axis = resolveAxis('OneHot', attrs.int('axis'), indices.shape.length + 1);
    return [tensorType(values.dtype, [...indices.shape.slice(0, axis), depth, ...indices.shape.slice(axis)])];
  },
  reference(inputs, attrs, outTypes) {
    const [indices, values] = [inputs[0]!, inputs[1]!];
    const shape = staticShape(outTypes[0]!);
    const axis = resolveAxis('OneHot', attrs.int('axis'), shape.length);
    const depth = attrs.int('depth');
    const negative = flagAttr('OneHot', attrs, 'negative');
    const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    return [
      tensorFromCoords(values.dtype, shape, (c) => {
        // The index element: the output coordinate without the new axis, row-major over indices' shape.
        let at = 0;
        for (let d = 0; d < axis; d++) at = at * shape[d]! + c[d]!;
        let rest = 0;
        for (let d = axis + 1; d < shape.length; d++) rest = rest * shape[d]! + c[d]!;
        const hit = oneHotIndex(indices.data[at * inner + rest]!, depth, negative) === c[axis];
        return values.data[hit ? 1 : 0]!;
      }),
    ];
  },
});
