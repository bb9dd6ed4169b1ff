// Ops that move elements around whole: Transpose permutes axes, Concat joins tensors along one axis and
// Split cuts one apart. All take any dtype and keep it; symbolic dims pass through wherever they are not the
// dims being joined or cut.
import { dimAdd } from '../dim.js';
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, formatShape, strides } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, resolveAxis, splitAtAxis, staticShape } from './common.js';
import { offsetOf, tensorFromCoords } from './shape-util.js';

function transposePerm(rank: number, attrs: AttrReader): number[] {
  const perm = attrs.optInts('perm');
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== rank || sorted.some((p, i) => p !== i))
    throw new OpError(`Transpose: perm [${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
  return [...perm];
}

registerOp({
  name: 'Transpose',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: { perm: { kind: 'ints' } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Transpose', inputs, 1) as [TensorType];
    const perm = transposePerm(x.shape.length, attrs);
    return [tensorType(x.dtype, perm.map((p) => x.shape[p]!))];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0]!;
    const inStrides = strides(x.shape);
    // Output axis i walks input axis perm[i].
    const permuted = transposePerm(x.shape.length, attrs).map((p) => inStrides[p]!);
    return [tensorFromCoords(x.dtype, staticShape(outTypes[0]!), (c) => x.data[offsetOf(c, permuted)]!)];
  },
});

registerOp({
  name: 'Concat',
  inputs: { min: 1, max: Infinity },
  outputs: 1,
  attrs: { axis: { kind: 'int', required: true } },
  infer(inputs, attrs) {
    checkInputs('Concat', inputs, 1, Infinity);
    const missing = inputs.findIndex((t) => t === undefined);
    if (missing >= 0) throw new OpError(`Concat: input ${missing} was omitted; every input is required`);
    const types = inputs as TensorType[];
    const first = types[0]!;
    const axis = resolveAxis('Concat', attrs.int('axis'), first.shape.length);
    types.forEach((t, k) => {
      if (t.dtype !== first.dtype) throw new OpError(`Concat: input ${k} has dtype ${t.dtype}, input 0 has ${first.dtype}`);
      const sameElsewhere = t.shape.length === first.shape.length && t.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!sameElsewhere)
        throw new OpError(
          `Concat: input ${k} ${formatShape(t.shape)} does not match input 0 ${formatShape(first.shape)} outside axis ${axis}`,
        );
    });
    const joined = types.map((t) => t.shape[axis]!);
    const total = joined.reduce<Dim>((a, b) => dimAdd(a, b), 0);
    return [tensorType(first.dtype, first.shape.map((d, i) => (i === axis ? total : d)))];
  },
  reference(inputs, attrs, outTypes) {
    const xs = inputs as Tensor[];
    const shape = staticShape(outTypes[0]!);
    const axis = resolveAxis('Concat', attrs.int('axis'), shape.length);
    const { outer, len, inner } = splitAtAxis(shape, axis);
    const out = new Float64Array(outer * len * inner);
    let at = 0; // where the current input's slab starts along the axis
    for (const x of xs) {
      const block = x.shape[axis]! * inner;
      for (let o = 0; o < outer; o++) out.set(x.data.subarray(o * block, (o + 1) * block), (o * len + at) * inner);
      at += x.shape[axis]!;
    }
    return [makeTensor(xs[0]!.dtype, shape, out)];
  },
});

/** The size of each piece; `dim` is the (static) size of the split axis. */
function splitSizes(dim: number, attrs: AttrReader): number[] {
  const given = attrs.optInts('split');
  if (given) {
    const sum = given.reduce((a, b) => a + b, 0);
    if (given.some((s) => s < 0) || sum !== dim)
      throw new OpError(`Split: split [${given.join(',')}] must be sizes >= 0 that add up to the axis size ${dim}`);
    return [...given];
  }
  // As in ONNX 18: equal chunks of ceil(dim / n), the last one smaller when dim does not divide evenly.
  const n = attrs.int('num_outputs');
  const chunk = Math.ceil(dim / n);
  const last = dim - chunk * (n - 1);
  if (last < 0) throw new OpError(`Split: ${dim} cannot be cut into ${n} chunks of ${chunk} (the last would have ${last})`);
  return [...new Array<number>(n - 1).fill(chunk), last];
}

/** How many pieces: the length of split, or num_outputs; ONNX 18 requires exactly one of them. */
function splitCount(attrs: AttrReader): number {
  const split = attrs.optInts('split');
  const n = attrs.optInt('num_outputs');
  if (split !== undefined && n !== undefined) throw new OpError('Split: give either split or num_outputs, not both');
  if (split !== undefined) return split.length;
  if (n === undefined || n < 1) throw new OpError(`Split needs split (sizes) or num_outputs >= 1${n === undefined ? '' : `, got ${n}`}`);
  return n;
}

registerOp({
  name: 'Split',
  inputs: { min: 1, max: 1 },
  outputs: (attrs) => splitCount(attrs),
  attrs: { axis: { kind: 'int', default: 0 }, split: { kind: 'ints' }, num_outputs: { kind: 'int' } },
  infer(inputs, attrs) {
    const [x] = checkInputs('Split', inputs, 1) as [TensorType];
    const count = splitCount(attrs);
    const axis = resolveAxis('Split', attrs.int('axis'), x.shape.length);
    const dim = x.shape[axis]!;
    if (typeof dim !== 'number') {
      // One piece is the whole tensor, whatever its size; anything else needs the size to cut.
      if (count === 1 && !attrs.has('split')) return [tensorType(x.dtype, x.shape)];
      throw new OpError(`Split needs static shape: axis ${axis} of ${formatShape(x.shape)} is symbolic`);
    }
    return splitSizes(dim, attrs).map((s) => tensorType(x.dtype, x.shape.map((d, i) => (i === axis ? s : d))));
  },
  reference(inputs, attrs) {
    const x = inputs[0]!;
    const axis = resolveAxis('Split', attrs.int('axis'), x.shape.length);
    const { outer, len, inner } = splitAtAxis(x.shape, axis);
    let at = 0;
    return splitSizes(len, attrs).map((size) => {
      const piece = new Float64Array(outer * size * inner);
      for (let o = 0; o < outer; o++)
        piece.set(x.data.subarray((o * len + at) * inner, (o * len + at + size) * inner), o * size * inner);
      at += size;
      return makeTensor(x.dtype, x.shape.map((d, i) => (i === axis ? size : d)), piece);
    });
  },
});
