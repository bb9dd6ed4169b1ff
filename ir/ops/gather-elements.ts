// GatherElements and GatherND, as ONNX defines them (opsets 11+: negative indices count from the end).
//   GatherElements: out[c] = data[c with axis replaced by indices[c]]; indices has data's rank and the output
//     its shape (no larger than data's on the other axes).
//   GatherND: each length-m row of indices (its last axis) addresses a slice data[b..., i0, ..., i(m-1), ...]
//     behind `batch_dims` leading axes shared by data and indices; out = indices.shape[:-1] ++ data.shape[b+m:].
// Any dtype; an index out of range is an error here (GPU kernels clamp it, see compiler/kernels/gather-nd.ts).
import { OpError, registerOp } from '../op.js';
import { formatShape, strides } from '../shape.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, resolveAxis, staticShape } from './common.js';
import { notLarger, requireIndices, resolveIndex, sameDim, staticDim } from './index-util.js';
import { forEachCoord, offsetOf } from './shape-util.js';

registerOp({
  name: 'GatherElements',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { axis: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [data, indices] = checkInputs('GatherElements', inputs, 2) as [TensorType, TensorType];
    requireIndices('GatherElements', indices);
    const r = data.shape.length;
    if (r === 0) throw new OpError('GatherElements needs data of rank >= 1, got a scalar');
    if (indices.shape.length !== r)
      throw new OpError(`GatherElements: indices ${formatShape(indices.shape)} must have the rank of data ${formatShape(data.shape)}`);
    const axis = resolveAxis('GatherElements', attrs.int('axis'), r);
    indices.shape.forEach((d, a) => {
      if (a !== axis) notLarger('GatherElements', d, data.shape[a]!, `indices are larger than data along axis ${a}`);
    });
    return [tensorType(data.dtype, indices.shape)];
  },
  reference(inputs, attrs, outTypes) {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const axis = resolveAxis('GatherElements', attrs.int('axis'), data.shape.length);
    const ds = strides(data.shape);
    const len = data.shape[axis]!;
    const out = new Float64Array(indices.data.length);
    forEachCoord(indices.shape, (c, k) => {
      const i = resolveIndex('GatherElements', indices.data[k]!, len, () => `at indices position [${c.join(',')}] (axis ${axis})`);
      out[k] = data.data[offsetOf(c, ds) + (i - c[axis]!) * ds[axis]!]!;
    });
    return [makeTensor(data.dtype, staticShape(outTypes[0]!), out)];
  },
});

/** GatherND's index depth m (indices' last dim) and batch dims, checked against data. */
function gatherNdShape(data: TensorType, indices: TensorType, b: number): { m: number; shape: TensorType['shape'] } {
  const op = 'GatherND';
  const [r, q] = [data.shape.length, indices.shape.length];
  if (r < 1 || q < 1) throw new OpError(`${op} needs data and indices of rank >= 1, got ${formatShape(data.shape)} and ${formatShape(indices.shape)}`);
  if (b < 0 || b >= Math.min(r, q)) throw new OpError(`${op}: batch_dims ${b} must be in 0..${Math.min(r, q) - 1} for data rank ${r} and indices rank ${q}`);
  const m = staticDim(op, indices.shape, q - 1, 'the index depth');
  if (m < 1 || m > r - b) throw new OpError(`${op}: indices rows of length ${m} must address 1..${r - b} axes of data ${formatShape(data.shape)} after ${b} batch dims`);
  for (let a = 0; a < b; a++) sameDim(op, data.shape[a]!, indices.shape[a]!, `batch dim ${a} differs between data and indices`);
  return { m, shape: [...indices.shape.slice(0, -1), ...data.shape.slice(b + m)] };
}

registerOp({
  name: 'GatherND',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { batch_dims: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [data, indices] = checkInputs('GatherND', inputs, 2) as [TensorType, TensorType];
    requireIndices('GatherND', indices);
    return [tensorType(data.dtype, gatherNdShape(data, indices, attrs.int('batch_dims')).shape)];
  },
  reference(inputs, attrs, outTypes) {
    const [data, indices] = [inputs[0]!, inputs[1]!];
    const b = attrs.int('batch_dims');
    const m = indices.shape[indices.shape.length - 1]!;
    const inner = data.shape.slice(b);
    const innerStrides = strides(inner);
    const slice = innerStrides[m - 1]!; // elements per addressed slice
    const batchSize = innerStrides.length ? innerStrides[0]! * inner[0]! : 1;
    const rows = indices.data.length / m;
    const perBatch = rows / Math.max(1, indices.shape.slice(0, b).reduce((x, y) => x * y, 1));
    const out = new Float64Array(rows * slice);
    for (let n = 0; n < rows; n++) {
      let at = Math.floor(n / perBatch) * batchSize;
      for (let j = 0; j < m; j++) {
        const where = (): string => `(component ${j} of indices row ${n})`;
        at += resolveIndex('GatherND', indices.data[n * m + j]!, inner[j]!, where) * innerStrides[j]!;
      }
      out.set(data.data.subarray(at, at + slice), n * slice);
    }
    return [makeTensor(data.dtype, staticShape(outTypes[0]!), out)];
  },
});
