// The scatters: a copy of `data` with elements of `updates` written (or folded, by `reduction`) at positions
// that `indices` names. ONNX semantics, opsets 11+ (negative indices count from the end):
//   ScatterElements: update u[c] goes to data[c with axis replaced by indices[c]] (indices and updates share a
//     shape of data's rank, no larger than data's on the other axes);
//   ScatterND: row n of indices (its last axis, length m) addresses the slice data[i0, ..., i(m-1), ...], which
//     updates[n, ...] replaces or folds into;
//   TensorScatter (opset 24): the KV-cache write. update's rows along `axis` go to rows write_indices[b] + i of
//     the cache for batch b (mode 'linear', which must fit) or to (write_indices[b] + i) mod max_len ('circular').
// Updates apply in the order ONNX's reference applies them (row-major over indices), so with duplicate indices
// and reduction 'none' the last one wins, and a reduction folds them in that order. Folds run in float64 for
// floats and with exact integer wrap-around, rounded once at the end.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, shapesEqual, strides } from '../shape.js';
import { makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, resolveAxis, staticShape } from './common.js';
import { notLarger, readReduction, reductionStep, requireIndices, resolveIndex, sameDim, staticDim } from './index-util.js';
import { forEachCoord, offsetOf } from './shape-util.js';

const SCATTER_ATTRS = { reduction: { kind: 'string', default: 'none' } } as const;

function checkUpdates(op: string, data: TensorType, updates: TensorType): void {
  if (updates.dtype !== data.dtype) throw new OpError(`${op}: updates are ${updates.dtype} but data is ${data.dtype}`);
}

registerOp({
  name: 'ScatterElements',
  inputs: { min: 3, max: 3 },
  outputs: 1,
  attrs: { axis: { kind: 'int', default: 0 }, ...SCATTER_ATTRS },
  infer(inputs, attrs) {
    const op = 'ScatterElements';
    const [data, indices, updates] = checkInputs(op, inputs, 3) as [TensorType, TensorType, TensorType];
    requireIndices(op, indices);
    checkUpdates(op, data, updates);
    readReduction(op, attrs, data.dtype);
    const r = data.shape.length;
    if (r === 0) throw new OpError(`${op} needs data of rank >= 1, got a scalar`);
    const axis = resolveAxis(op, attrs.int('axis'), r);
    if (indices.shape.length !== r || !shapesEqual(indices.shape, updates.shape))
      throw new OpError(`${op}: indices ${formatShape(indices.shape)} and updates ${formatShape(updates.shape)} must have one shape, of data's rank ${r}`);
    indices.shape.forEach((d, a) => {
      if (a !== axis) notLarger(op, d, data.shape[a]!, `indices are larger than data along axis ${a}`);
    });
    return [tensorType(data.dtype, data.shape)];
  },
  reference(inputs, attrs) {
    const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const axis = resolveAxis('ScatterElements', attrs.int('axis'), data.shape.length);
    const step = reductionStep(readReduction('ScatterElements', attrs, data.dtype), data.dtype);
    const ds = strides(data.shape);
    const out = Float64Array.from(data.data);
    forEachCoord(indices.shape, (c, k) => {
      const where = (): string => `at indices position [${c.join(',')}] (axis ${axis})`;
      const i = resolveIndex('ScatterElements', indices.data[k]!, data.shape[axis]!, where);
      const at = offsetOf(c, ds) + (i - c[axis]!) * ds[axis]!;
      out[at] = step(out[at]!, updates.data[k]!);
    });
    return [makeTensor(data.dtype, data.shape, out)];
  },
});

registerOp({
  name: 'ScatterND',
  inputs: { min: 3, max: 3 },
  outputs: 1,
  attrs: SCATTER_ATTRS,
  infer(inputs, attrs) {
    const op = 'ScatterND';
    const [data, indices, updates] = checkInputs(op, inputs, 3) as [TensorType, TensorType, TensorType];
    requireIndices(op, indices);
    checkUpdates(op, data, updates);
    readReduction(op, attrs, data.dtype);
    const [r, q] = [data.shape.length, indices.shape.length];
    if (r < 1 || q < 1) throw new OpError(`${op} needs data and indices of rank >= 1, got ${formatShape(data.shape)} and ${formatShape(indices.shape)}`);
    const m = staticDim(op, indices.shape, q - 1, 'the index depth');
    if (m < 1 || m > r) throw new OpError(`${op}: indices rows of length ${m} must address 1..${r} axes of data ${formatShape(data.shape)}`);
    const want = [...indices.shape.slice(0, -1), ...data.shape.slice(m)];
    if (updates.shape.length !== want.length) throw new OpError(`${op}: updates ${formatShape(updates.shape)} must have shape ${formatShape(want)}`);
    want.forEach((d, a) => sameDim(op, updates.shape[a]!, d, `updates ${formatShape(updates.shape)} must have shape ${formatShape(want)}`));
    return [tensorType(data.dtype, data.shape)];
  },
  reference(inputs, attrs) {
    const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const step = reductionStep(readReduction('ScatterND', attrs, data.dtype), data.dtype);
    const m = indices.shape[indices.shape.length - 1]!;
    const ds = strides(data.shape);
    const slice = ds[m - 1]!;
    const out = Float64Array.from(data.data);
    for (let n = 0; n < indices.data.length / m; n++) {
      let at = 0;
      for (let j = 0; j < m; j++) at += resolveIndex('ScatterND', indices.data[n * m + j]!, data.shape[j]!, () => `(component ${j} of indices row ${n})`) * ds[j]!;
      for (let e = 0; e < slice; e++) out[at + e] = step(out[at + e]!, updates.data[n * slice + e]!);
    }
    return [makeTensor(data.dtype, data.shape, out)];
  },
});

const MODES = ['linear', 'circular'];

function tensorScatterPlan(op: string, cache: TensorType, attrs: AttrReader): { axis: number; circular: boolean } {
  const mode = attrs.string('mode');
  if (!MODES.includes(mode)) throw new OpError(`${op}: mode must be linear or circular, got '${mode}'`);
  const axis = resolveAxis(op, attrs.int('axis'), cache.shape.length);
  if (axis === 0) throw new OpError(`${op}: axis ${attrs.int('axis')} is the batch axis; the sequence axis must come after it`);
  return { axis, circular: mode === 'circular' };
}

registerOp({
  name: 'TensorScatter',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: { axis: { kind: 'int', default: -2 }, mode: { kind: 'string', default: 'linear' } },
  infer(inputs, attrs) {
    const op = 'TensorScatter';
    const [cache, update, writeIndices] = checkInputs(op, inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    checkUpdates(op, cache, update);
    const { axis } = tensorScatterPlan(op, cache, attrs);
    if (update.shape.length !== cache.shape.length)
      throw new OpError(`${op}: update ${formatShape(update.shape)} must have the rank of the cache ${formatShape(cache.shape)}`);
    cache.shape.forEach((d, a) => {
      if (a === axis) notLarger(op, update.shape[a]!, d, `update has more rows than the cache along axis ${a}`);
      else sameDim(op, update.shape[a]!, d, `update ${formatShape(update.shape)} and cache ${formatShape(cache.shape)} differ on axis ${a}`);
    });
    if (writeIndices) {
      requireIndices(op, writeIndices, 'write_indices');
      if (writeIndices.shape.length !== 1) throw new OpError(`${op}: write_indices must be [batch], got ${formatShape(writeIndices.shape)}`);
      sameDim(op, writeIndices.shape[0]!, cache.shape[0]!, 'write_indices has one entry per batch');
    }
    return [tensorType(cache.dtype, cache.shape)];
  },
  reference(inputs, attrs) {
    const [cache, update, writeIndices] = [inputs[0]!, inputs[1]!, inputs[2]];
    const { axis, circular } = tensorScatterPlan('TensorScatter', tensorType(cache.dtype, cache.shape), attrs);
    const max = cache.shape[axis]!;
    const cs = strides(cache.shape);
    const out = Float64Array.from(cache.data);
    forEachCoord(update.shape, (c, k) => {
      const w = writeIndices ? writeIndices.data[c[0]!]! : 0;
      let row = w + c[axis]!;
      if (circular) row = ((row % max) + max) % max;
      else if (w < 0 || w + update.shape[axis]! > max)
        throw new OpError(`TensorScatter: write index ${w} for batch ${c[0]} puts ${update.shape[axis]} rows past the ${max} of the cache (linear mode)`);
      out[offsetOf(c, cs) + (row - c[axis]!) * cs[axis]!] = update.data[k]!;
    });
    return [makeTensor(cache.dtype, cache.shape, out)];
  },
});
