// Ops that change a tensor's shape but not its row-major element order (Reshape, Flatten, Squeeze,
// Unsqueeze), plus Expand, which repeats elements by broadcasting. All take any dtype and keep it.
// Target shapes are attributes, not input tensors as in ONNX, so every result shape is known at compile time.
import { OpError, registerOp } from '../op.js';
import { type Dim, type Shape, formatShape } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, broadcastOrThrow, checkInputs, flagAttr, resolveAxes, resolveAxis, staticShape } from './common.js';
import { canonicalDim, dimDivExact, dimProduct as numelOf } from '../dim.js';

/** Same data, new shape: the reference of every op in this file except Expand. */
function sameData(inputs: readonly (Tensor | undefined)[], outTypes: readonly TensorType[]): Tensor[] {
  const x = inputs[0]!;
  return [makeTensor(x.dtype, staticShape(outTypes[0]!), x.data)];
}

/**
 * ONNX Reshape's target: 0 copies the input dim (unless allowzero), one -1 takes whatever is left. Entries may be
 * symbolic dims (ir/dim.ts), and the -1 is solved symbolically: [b,4,8] -> [0,-1] gives [b,32], [b,4] -> [-1,2]
 * gives 2*b. Element counts must agree as polynomials, i.e. for every value of the symbols.
 */
function reshapeTarget(input: Shape, target: readonly Dim[], allowZero: boolean): Dim[] {
  const fail = (why: string): never => {
    throw new OpError(`Reshape: cannot reshape ${formatShape(input)} to [${target.join(',')}]: ${why}`);
  };
  const out: Dim[] = [];
  let inferred = -1;
  target.forEach((t, i) => {
    if (t === -1) {
      if (inferred >= 0) fail('more than one -1');
      inferred = i;
      out.push(1); // the inferred dim: set once the known dims are multiplied out, below
    } else if (t === 0 && !allowZero) {
      if (i >= input.length) fail(`0 at position ${i} copies an input dim, but the input has rank ${input.length}`);
      out.push(input[i]!);
    } else if (typeof t === 'number' && t < 0) fail(`${t} is not a dim (only -1 and, without allowzero, 0 are special)`);
    else out.push(canonicalDim(t));
  });
  if (allowZero && inferred >= 0 && target.includes(0)) fail('with allowzero=1 a -1 cannot be combined with a 0');
  const have = numelOf(input);
  const want = numelOf(out);
  if (inferred < 0) {
    if (have !== want) fail(`element counts differ (${have} vs ${want})`);
    return out;
  }
  if (want === 0) fail('the -1 is ambiguous when other dims are 0');
  const rest = dimDivExact(have, want);
  if (rest === undefined)
    fail(typeof have === 'number' && typeof want === 'number' ? `${have} elements are not a multiple of ${want}` : `${have} elements do not divide by ${want} for every value of the symbols`);
  out[inferred] = rest!;
  return out;
}

registerOp({
  name: 'Reshape',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { shape: { kind: 'dims', required: true }, allowzero: { kind: 'int', default: 0 } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Reshape', inputs, 1) as [TensorType];
    return [tensorType(x.dtype, reshapeTarget(x.shape, attrs.dims('shape'), flagAttr('Reshape', attrs, 'allowzero')))];
  },
  reference: (inputs, _attrs, outTypes) => sameData(inputs, outTypes),
});

registerOp({
  name: 'Flatten',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { axis: { kind: 'int', default: 1 } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Flatten', inputs, 1) as [TensorType];
    const rank = x.shape.length;
    // Unlike most axes this one may equal the rank (everything goes to the outer dim).
    const axis = attrs.int('axis') === rank ? rank : resolveAxis('Flatten', attrs.int('axis'), rank);
    const outer = numelOf(x.shape.slice(0, axis));
    const inner = numelOf(x.shape.slice(axis));
    return [tensorType(x.dtype, [outer, inner])];
  },
  reference: (inputs, _attrs, outTypes) => sameData(inputs, outTypes),
});

registerOp({
  name: 'Squeeze',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { axes: { kind: 'ints' } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Squeeze', inputs, 1) as [TensorType];
    const given = attrs.optInts('axes');
    if (given === undefined) {
      // A symbolic dim might be 1 at run time, and the result rank must not depend on that.
      if (x.shape.some((d) => typeof d !== 'number'))
        throw new OpError(`Squeeze needs static shape to find the 1-dims of ${formatShape(x.shape)}; give axes`);
      return [tensorType(x.dtype, x.shape.filter((d) => d !== 1))];
    }
    const axes = resolveAxes('Squeeze', given, x.shape.length);
    for (const a of axes)
      if (x.shape[a] !== 1) throw new OpError(`Squeeze: axis ${a} of ${formatShape(x.shape)} has size ${x.shape[a]}, expected 1`);
    return [tensorType(x.dtype, x.shape.filter((_, i) => !axes.includes(i)))];
  },
  reference: (inputs, _attrs, outTypes) => sameData(inputs, outTypes),
});

registerOp({
  name: 'Unsqueeze',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { axes: { kind: 'ints', required: true } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Unsqueeze', inputs, 1) as [TensorType];
    // Axes index the result, so they are normalised against the output rank.
    const axes = resolveAxes('Unsqueeze', attrs.ints('axes'), x.shape.length + attrs.ints('axes').length);
    const rest = [...x.shape];
    const out = Array.from({ length: x.shape.length + axes.length }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!));
    return [tensorType(x.dtype, out)];
  },
  reference: (inputs, _attrs, outTypes) => sameData(inputs, outTypes),
});

registerOp({
  name: 'Expand',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { shape: { kind: 'dims', required: true } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Expand', inputs, 1) as [TensorType];
    const shape = attrs.dims('shape').map(canonicalDim);
    if (shape.some((d) => typeof d === 'number' && d < 0)) throw new OpError(`Expand: shape [${shape.join(',')}] has a negative dim`);
    // Bidirectional, as in ONNX: a 1 in `shape` keeps the input's dim, so the result may exceed `shape`.
    return [tensorType(x.dtype, broadcastOrThrow('Expand', [x.shape, shape]))];
  },
  reference(inputs, _attrs, outTypes) {
    const x = inputs[0]!;
    const shape = staticShape(outTypes[0]!);
    const from = broadcastOffsets(x.shape, shape);
    return [makeTensor(x.dtype, shape, (i) => x.data[from[i]!]!)];
  },
});
