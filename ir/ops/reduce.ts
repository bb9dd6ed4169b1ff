// Reductions (ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd) and ArgMax, with ONNX semantics except
// that `axes` is an attribute (as in opsets before 18) so the output shape is static. Accumulation is in float64
// and the result is rounded to the output dtype once; for integer sums wrapping once at the end equals a GPU
// wrapping at every step, since wrap-around is arithmetic modulo 2^bits. Integer products would lose low bits in
// float64, so they multiply modulo 2^32 at every step (Math.imul), as the GPU's 32-bit accumulator does.
import { dtypeInfo } from '../dtype.js';
import { type AttrReader, type AttrSpec, OpError, registerOp } from '../op.js';
import { type Dim, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, checkInputs, flagAttr, resolveAxes, resolveAxis, splitAtAxis, staticShape } from './common.js';

interface Reduction {
  readonly name: string;
  /** Value of a reduction over no elements. */
  readonly init: number;
  readonly step: (acc: number, x: number) => number;
  /** The step for integer dtypes up to 32 bits, when it differs. */
  readonly intStep?: (acc: number, x: number) => number;
  readonly finish: (acc: number, count: number) => number;
}

const REDUCTIONS: readonly Reduction[] = [
  { name: 'ReduceSum', init: 0, step: (a, x) => a + x, finish: (a) => a },
  // Over an empty axis the mean is 0/0 = NaN (0 for integer dtypes, where NaN rounds to 0).
  { name: 'ReduceMean', init: 0, step: (a, x) => a + x, finish: (a, n) => a / n },
  // Over an empty axis the max is -inf (the most negative value for integer dtypes); NaN propagates, as in
  // numpy, and ArgMax points at the same NaN.
  { name: 'ReduceMax', init: -Infinity, step: Math.max, finish: (a) => a },
  // The mirror image: +inf (the largest value for integer dtypes) over an empty axis; NaN propagates.
  { name: 'ReduceMin', init: Infinity, step: Math.min, finish: (a) => a },
  // The empty product is 1.
  { name: 'ReduceProd', init: 1, step: (a, x) => a * x, intStep: Math.imul, finish: (a) => a },
];

const REDUCE_ATTRS: Readonly<Record<string, AttrSpec>> = {
  axes: { kind: 'ints' },
  keepdims: { kind: 'int', default: 1 },
  noop_with_empty_axes: { kind: 'int', default: 0 },
};

function checkNumeric(op: string, t: TensorType): void {
  const kind = dtypeInfo(t.dtype).kind;
  if (kind !== 'float' && kind !== 'int') throw new OpError(`${op} needs a float or int input, got ${t.dtype}`);
}

/** The sorted axes to reduce, or undefined for the identity (empty axes with noop_with_empty_axes=1). */
function reducedAxes(op: string, attrs: AttrReader, rank: number): number[] | undefined {
  const noop = flagAttr(op, attrs, 'noop_with_empty_axes');
  const axes = attrs.optInts('axes') ?? [];
  if (axes.length > 0) return resolveAxes(op, axes, rank);
  return noop ? undefined : Array.from({ length: rank }, (_, i) => i);
}

/** The input shape with reduced axes set to 1 (keepdims) or removed. */
function reducedShape(shape: readonly Dim[], axes: readonly number[], keepdims: boolean): Dim[] {
  return shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
}

function reduceOp(r: Reduction): void {
  registerOp({
    name: r.name,
    inputs: { min: 1, max: 1 },
    outputs: 1,
    attrs: REDUCE_ATTRS,
    infer(inputs, attrs) {
      const x = checkInputs(r.name, inputs, 1)[0]!;
      checkNumeric(r.name, x);
      const keepdims = flagAttr(r.name, attrs, 'keepdims');
      const axes = reducedAxes(r.name, attrs, x.shape.length);
      return [tensorType(x.dtype, axes ? reducedShape(x.shape, axes, keepdims) : x.shape)];
    },
    reference(inputs, attrs, outTypes) {
      const x = inputs[0] as Tensor;
      const out = outTypes[0]!;
      const axes = reducedAxes(r.name, attrs, x.shape.length);
      if (!axes) return [makeTensor(x.dtype, x.shape, x.data)];
      // Each input element's slot in the output: broadcasting the keepdims shape back onto the input.
      const slots = broadcastOffsets(reducedShape(x.shape, axes, true) as number[], x.shape);
      const acc = new Float64Array(numel(staticShape(out))).fill(r.init);
      const info = dtypeInfo(x.dtype);
      const step = r.intStep && info.kind === 'int' && info.bits <= 32 ? r.intStep : r.step;
      for (let i = 0; i < x.data.length; i++) acc[slots[i]!] = step(acc[slots[i]!]!, x.data[i]!);
      const count = numel(axes.map((a) => x.shape[a]!));
      return [makeTensor(out.dtype, staticShape(out), (i) => r.finish(acc[i]!, count))];
    },
  });
}

for (const r of REDUCTIONS) reduceOp(r);

/** NaN counts as the largest value, so ArgMax agrees with ReduceMax, which propagates NaN. */
const greater = (v: number, best: number): boolean => v > best || (Number.isNaN(v) && !Number.isNaN(best));
/** ArgMin picks NaN too (as numpy's argmin and ReduceMin's propagation do). */
const smaller = (v: number, best: number): boolean => v < best || (Number.isNaN(v) && !Number.isNaN(best));
const same = (v: number, best: number): boolean => v === best || (Number.isNaN(v) && Number.isNaN(best));

// ArgMax / ArgMin: index of the largest / smallest element along one axis, first occurrence unless
// select_last_index=1. The output is i32 where ONNX has int64: the IR narrows int64 at import and no tensor here has
// 2^31 elements. ArgMin is its own op rather than ArgMax of a negation, which wraps for unsigned and INT_MIN.
for (const [name, better, what] of [
  ['ArgMax', greater, 'largest'],
  ['ArgMin', smaller, 'smallest'],
] as const)
  registerOp({
    name,
    inputs: { min: 1, max: 1 },
    outputs: 1,
    attrs: {
      axis: { kind: 'int', default: 0 },
      keepdims: { kind: 'int', default: 1 },
      select_last_index: { kind: 'int', default: 0 },
    },
    infer(inputs, attrs) {
      const x = checkInputs(name, inputs, 1)[0]!;
      checkNumeric(name, x);
      const keepdims = flagAttr(name, attrs, 'keepdims');
      flagAttr(name, attrs, 'select_last_index');
      const axis = resolveAxis(name, attrs.int('axis'), x.shape.length);
      if (x.shape[axis] === 0) throw new OpError(`${name}: axis ${axis} of shape [${x.shape.join(',')}] is empty; there is no ${what} element`);
      return [tensorType('i32', reducedShape(x.shape, [axis], keepdims))];
    },
    reference(inputs, attrs, outTypes) {
      const x = inputs[0] as Tensor;
      const axis = resolveAxis(name, attrs.int('axis'), x.shape.length);
      const last = flagAttr(name, attrs, 'select_last_index');
      const { outer, len, inner } = splitAtAxis(x.shape, axis);
      const idx = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++)
        for (let j = 0; j < inner; j++) {
          const base = o * len * inner + j;
          let best = 0;
          let bestV = x.data[base]!;
          for (let k = 1; k < len; k++) {
            const v = x.data[base + k * inner]!;
            if (better(v, bestV) || (last && same(v, bestV))) {
              best = k;
              bestV = v;
            }
          }
          idx[o * inner + j] = best;
        }
      return [makeTensor('i32', staticShape(outTypes[0]!), idx)];
    },
  });
