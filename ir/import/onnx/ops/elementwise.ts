// Elementwise ops: unary math, binary arithmetic and comparisons (numpy broadcasting from opset 7), Cast and
// CastLike, Clip (bounds as attributes before 11, as inputs after), variadic Sum/Mean as Add chains, boolean logic
// expressed with Where/Equal, and the inference-time aliases Identity and Dropout.
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { constantDType, onnxDTypeName, runtimeDType } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, direct, rejectUsedOutputs, rules } from '../rule.js';

/** Unary ops that are the IR op of the same name, with the opset each first appeared in (as kiln maps it). */
const UNARY: readonly [string, number][] = [
  ['Abs', 6], ['Neg', 6], ['Sqrt', 6], ['Exp', 6], ['Log', 6], ['Tanh', 6], ['Sigmoid', 6], ['Reciprocal', 6],
  ['Relu', 6], ['Erf', 9], ['Floor', 6], ['Ceil', 6], ['Round', 11],
];

/** Binary ops with numpy broadcasting (opset 7 dropped the old `broadcast`/`axis` attributes). */
const BINARY: readonly [string, number][] = [
  ['Add', 7], ['Sub', 7], ['Mul', 7], ['Div', 7], ['Equal', 7], ['Less', 7], ['Greater', 7],
];

/** Cast's target: i64 when folding known values (narrowed later), the runtime narrowing otherwise. */
function castTarget(cx: NodeContext, to: number): string {
  if (cx.constant(0)) return constantDType(to, `${cx.op} to ${onnxDTypeName(to)}`);
  return runtimeDType(to, `${cx.op} to ${onnxDTypeName(to)} (output '${cx.output(0)}')`, (why) => cx.note(why));
}

function cast(cx: NodeContext, to: string): void {
  if (to === 'i64' && !cx.constant(0)) return invalid('internal: i64 cast at run time');
  cx.emitOutputs('Cast', [cx.input(0)], { to });
}

/** Sum and Mean: a left fold of Add over the inputs, Mean then divided by the count. */
function variadicSum(cx: NodeContext, mean: boolean): void {
  const n = cx.inputCount;
  if (n === 0) invalid(`${cx.op} needs at least one input`);
  let acc = cx.input(0);
  for (let i = 1; i < n; i++) {
    const last = i === n - 1 && !mean;
    acc = cx.emit1('Add', [acc, cx.input(i)], {}, last ? cx.output(0) : undefined);
  }
  if (mean) {
    const divisor = cx.newConst(scalarTensor(cx.values.typeOf(acc).dtype, n), 'count');
    cx.emit1('Div', [acc, divisor], {}, cx.output(0));
  } else if (n === 1) cx.alias(0, acc);
}

const falseConst = (cx: NodeContext): string => cx.newConst(makeTensor('bool', [], [0]), 'false');

/** Clip before opset 11: bounds as attributes (absent means unbounded). */
function clipAttrs(cx: NodeContext): void {
  const min = cx.attrs.float('min');
  const max = cx.attrs.float('max');
  cx.emitOutputs('Clip', [cx.input(0)], { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
}

/** Clip from opset 11: optional scalar inputs min and max, which must be known. */
function clipInputs(cx: NodeContext): void {
  const min = cx.constScalar(1, 'min');
  const max = cx.constScalar(2, 'max');
  cx.emitOutputs('Clip', [cx.input(0)], { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
}

/** Dropout at inference is the identity; its mask output and training mode are not supported. */
function dropout(cx: NodeContext, trainingInput: boolean): void {
  if (trainingInput && cx.has(2)) {
    const training = cx.constScalar(2, 'training_mode');
    if (training) unsupported('attribute', 'Dropout with training_mode=true (kiln compiles inference; export in eval mode)');
  }
  rejectUsedOutputs(cx, 1, 'mask');
  cx.alias(0, cx.input(0));
}

export const ELEMENTWISE_RULES: OpRule[] = [
  ...UNARY.flatMap(([op, since]) => rules(op, [since, undefined, direct()])),
  ...BINARY.flatMap(([op, since]) => rules(op, [since, undefined, direct()])),
  ...rules('LeakyRelu', [6, undefined, direct()]),
  ...rules('Gelu', [20, undefined, direct()]),
  ...rules('Max', [6, undefined, direct()]),
  ...rules('Min', [6, undefined, direct()]),
  ...rules('Where', [9, undefined, direct()]),
  ...rules(
    'Pow',
    [7, 11, direct()],
    // From 12 the exponent may have another dtype; kiln's Pow wants one dtype, so the exponent is cast.
    [12, undefined, (cx) => {
      const [x, y] = [cx.type(0), cx.type(1)];
      const exponent = x.dtype === y.dtype ? cx.input(1) : cx.emit1('Cast', [cx.input(1)], { to: x.dtype });
      cx.emitOutputs('Pow', [cx.input(0), exponent]);
    }],
  ),
  ...rules('Sum', [6, undefined, (cx) => variadicSum(cx, false)]),
  ...rules('Mean', [6, undefined, (cx) => variadicSum(cx, true)]),
  // Cast-19 added `saturate`, which only affects float8 targets (rejected anyway).
  ...rules('Cast', [6, undefined, (cx) => cast(cx, castTarget(cx, cx.attrs.int('to') ?? invalid('Cast needs attribute to')))]),
  ...rules('CastLike', [15, undefined, (cx) => {
    const like = cx.type(1).dtype;
    cast(cx, like === 'i64' && !cx.constant(0) ? 'i32' : like);
  }]),
  ...rules('Clip', [6, 10, clipAttrs], [11, undefined, clipInputs]),
  ...rules('Identity', [1, undefined, (cx) => cx.alias(0, cx.input(0))]),
  ...rules('Dropout', [7, 11, (cx) => dropout(cx, false)], [12, undefined, (cx) => dropout(cx, true)]),
  // Boolean logic through Where and Equal (kiln has no logical ops): exact, NaN included.
  ...rules('Not', [1, undefined, (cx) => cx.emitOutputs('Equal', [cx.input(0), falseConst(cx)])]),
  ...rules('And', [7, undefined, (cx) => cx.emitOutputs('Where', [cx.input(0), cx.input(1), cx.input(0)])]),
  ...rules('Or', [7, undefined, (cx) => cx.emitOutputs('Where', [cx.input(0), cx.input(0), cx.input(1)])]),
  ...rules('Xor', [7, undefined, (cx) => {
    const notB = cx.emit1('Equal', [cx.input(1), falseConst(cx)]);
    cx.emitOutputs('Where', [cx.input(0), notB, cx.input(1)]);
  }]),
  ...rules('LessOrEqual', [12, undefined, (cx) => orEqual(cx, 'Less')]),
  ...rules('GreaterOrEqual', [12, undefined, (cx) => orEqual(cx, 'Greater')]),
];

/** x <= y as Where(x < y, x < y, x == y), so a NaN operand gives false as it must. */
function orEqual(cx: NodeContext, strict: 'Less' | 'Greater'): void {
  const lt = cx.emit1(strict, [cx.input(0), cx.input(1)]);
  const eq = cx.emit1('Equal', [cx.input(0), cx.input(1)]);
  cx.emitOutputs('Where', [lt, lt, eq]);
}
