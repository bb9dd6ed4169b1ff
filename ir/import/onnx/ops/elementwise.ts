// Elementwise ops: unary math, binary arithmetic and comparisons (numpy broadcasting from opset 7), Cast and
// CastLike, Clip (bounds as attributes before 11, as inputs after), variadic Sum/Mean as Add chains, Pow over
// mixed dtypes, the integer ops (Mod, BitShift, Bitwise*), boolean logic expressed with Where/Equal, and the
// inference-time aliases Identity and Dropout. The activations and further unary math are in activations.ts.
import { type DType, dtypeInfo, isFloat } from '../../../dtype.js';
import { formatShape } from '../../../shape.js';
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { constantDType, onnxDTypeName, runtimeDType } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, direct, rejectUsedOutputs, rules } from '../rule.js';
import { ACTIVATION_RULES } from './activations.js';

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

/**
 * Clip from opset 11: optional scalar inputs min and max. Known bounds become the IR Clip's attributes; a bound
 * computed at run time is applied as Max(x, min) (then Min(., max)), which is Clip exactly: NaN propagates, and
 * min > max gives max, as ONNX specifies.
 */
function clipInputs(cx: NodeContext): void {
  const steps: { op: string; attrs?: { min?: number; max?: number }; bound?: string }[] = [];
  for (const [i, what, op] of [[1, 'min', 'Max'], [2, 'max', 'Min']] as const) {
    if (!cx.has(i)) continue;
    if (cx.constant(i)) steps.push({ op: 'Clip', attrs: { [what]: cx.constScalar(i, what)! } });
    else steps.push({ op, bound: clipBound(cx, i, what) });
  }
  // Known bounds only: one Clip with both (absent ones are no bound).
  if (steps.every((s) => s.op === 'Clip')) return void cx.emitOutputs('Clip', [cx.input(0)], Object.assign({}, ...steps.map((s) => s.attrs)));
  let y = cx.input(0);
  steps.forEach((s, k) => {
    const out = k === steps.length - 1 ? cx.output(0) : undefined;
    y = s.bound === undefined ? cx.emit1('Clip', [y], s.attrs, out) : cx.emit1(s.op, [y, s.bound], {}, out);
  });
}

/** A computed Clip bound: a scalar (any rank whose dims are all 1, no higher than x's, so x keeps its shape). */
function clipBound(cx: NodeContext, i: number, what: string): string {
  const shape = cx.type(i).shape;
  if (shape.length > cx.type(0).shape.length || shape.some((d) => d !== 1))
    invalid(`Clip ${what} (input '${cx.input(i)}') must be a scalar, got shape ${formatShape(shape)}`);
  return cx.input(i);
}

/**
 * Pow from opset 12: base and exponent may have different dtypes; the result has the base's. kiln's Pow takes one
 * dtype, so: a float base takes the exponent cast to its dtype; an integer base with a float exponent is raised
 * in f32 and truncated back (numpy computes in floating point and casts); two integer dtypes meet in i32 (u32
 * for an unsigned exponent), where wrapping multiplication gives the base dtype's low bits exactly.
 */
function powMixed(cx: NodeContext): void {
  const folded = cx.constant(0) !== undefined && cx.constant(1) !== undefined;
  // Known int64 values stay i64 while folded; at run time they are i32.
  const runtime = (d: DType): DType => (d === 'i64' && !folded ? 'i32' : d);
  const [base, exponent] = [runtime(cx.type(0).dtype), runtime(cx.type(1).dtype)];
  const [x, y] = [cx.input(0), cx.input(1)];
  const cast = (v: string, from: DType, to: DType): string => (from === to ? v : cx.emit1('Cast', [v], { to }));
  if (isFloat(base) || base === exponent) return void cx.emitOutputs('Pow', [x, cast(y, exponent, base)]);
  const via: DType = isFloat(exponent) ? 'f32' : dtypeInfo(exponent).signed ? 'i32' : 'u32';
  const p = cx.emit1('Pow', [cast(x, base, via), cast(y, exponent, via)]);
  cx.emitOutputs('Cast', [p], { to: base });
}

/** Mod-10 on: fmod = 0 is Python's %, 1 C's fmod, which ONNX requires for floating-point inputs. */
function mod(cx: NodeContext): void {
  const fmod = cx.attrs.int('fmod', 0);
  if (fmod !== 0 && fmod !== 1) invalid(`Mod attribute fmod must be 0 or 1, got ${fmod}`);
  const dt = cx.type(0).dtype;
  if (isFloat(dt) && fmod === 0) invalid(`Mod on ${dt} inputs needs fmod=1 (ONNX defines only C's fmod for floating point); set fmod=1`);
  cx.emitOutputs('Mod', [cx.input(0), cx.input(1)], { fmod });
}

/**
 * BitwiseNot-18. uint16 is held as u32 (widened at import), and ~x of a uint16 is not ~x of the same u32, so u32
 * inputs, which may be either, are refused rather than answered wrongly.
 */
function bitwiseNot(cx: NodeContext): void {
  if (cx.type(0).dtype === 'u32')
    unsupported(
      'dtype',
      'BitwiseNot on u32: kiln holds uint16 as u32 and cannot tell which this is, and ~x differs; write BitwiseXor with 0xFFFFFFFF (uint32) or 0xFFFF (uint16) instead',
    );
  cx.emitOutputs('BitwiseNot', [cx.input(0)]);
}

/** BitShift-11: unsigned integers only, the direction as one of two IR ops. */
function bitShift(cx: NodeContext): void {
  const direction = cx.attrs.string('direction');
  if (direction !== 'LEFT' && direction !== 'RIGHT')
    invalid(`BitShift needs attribute direction 'LEFT' or 'RIGHT', got ${direction === undefined ? 'none' : `'${direction}'`}`);
  const dt = cx.type(0).dtype;
  if (dtypeInfo(dt).kind === 'int' && dtypeInfo(dt).signed) invalid(`BitShift takes unsigned integers (uint8 to uint64), got ${dt}`);
  cx.emitOutputs(direction === 'LEFT' ? 'BitShiftLeft' : 'BitShiftRight', [cx.input(0), cx.input(1)]);
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
  ...rules('Pow', [7, 11, direct()], [12, undefined, powMixed]),
  ...rules('Mod', [10, undefined, mod]),
  ...rules('BitShift', [11, undefined, bitShift]),
  ...['BitwiseAnd', 'BitwiseOr', 'BitwiseXor'].flatMap((op) => rules(op, [18, undefined, direct()])),
  ...rules('BitwiseNot', [18, undefined, bitwiseNot]),
  ...ACTIVATION_RULES,
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
