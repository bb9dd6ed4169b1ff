// The elementwise op table: one row per op (ONNX semantics; shape-like and bound operands are attributes).
// Scalar functions compute in float64 on inputs already rounded to their dtype; the machinery in elementwise.ts
// rounds each result to the output dtype, so integer overflow wraps exactly as GPU integer arithmetic does.
// The basic rows are here; families of further rows (elementwise-math.ts, -activations.ts, -int.ts) are gathered
// at the end.
import { ALL_DTYPES, type DType, dtypeInfo, isDType, isFloat } from '../dtype.js';
import { type AttrReader, OpError } from '../op.js';
import type { ElementwiseRow } from './elementwise.js';
import { ACTIVATION_ROWS } from './elementwise-activations.js';
import { BITCAST_ROWS } from './elementwise-bitcast.js';
import { INT_ROWS, intPow } from './elementwise-int.js';
import { MATH_ROWS, sigmoid } from './elementwise-math.js';
import { ANY, FLOAT, NUMERIC, VARIADIC, row, rowWith } from './elementwise-rows.js';

export { sigmoid };

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * erf for |x| < 2 by the series 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)). Unlike the Taylor series its terms
 * all have one sign, so nothing cancels and it is accurate to a few ulps.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; Math.abs(term) > Math.abs(sum) * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc for x >= 1 by Laplace's continued fraction e^(−x²)/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))),
 * evaluated with the modified Lentz method (under 200 terms for x >= 1, 57 at x = 2). Computing erfc directly
 * (not 1 − erf) keeps its relative accuracy in the tail, which is what Gelu of a large negative input needs.
 */
function erfcFraction(x: number): number {
  if (x > 27) return 0; // e^(−x²) underflows; also keeps x = ∞ out of the recurrence
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = 1 / (d === 0 ? tiny : d);
    c = x + a / (c === 0 ? tiny : c);
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x) || x === 0) return x; // erf is odd: erf(-0) = -0, as in C and Python
  const a = Math.abs(x);
  const r = a < 2 ? erfSeries(a) : 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  // Below 1, erf <= 0.85 so 1 - erf loses under a digit; above it the fraction converges quickly enough.
  const r = a < 1 ? 1 - erfSeries(a) : erfcFraction(a);
  return x < 0 ? 2 - r : r;
}

/**
 * Round to the nearest integer, ties to even (ONNX Round, numpy.rint, IEEE roundTiesToEven). Math.round sends
 * ties up instead, so at an exact .5 we halve, round and double, which lands on the even neighbour.
 */
export function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/** Exact Gelu x·Φ(x), written with erfc so that the far negative tail keeps relative precision. */
export const gelu = (x: number): number => 0.5 * x * erfc(-x / Math.SQRT2);

/** The tanh approximation (ONNX Gelu approximate="tanh"). */
export const geluTanh = (x: number): number => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));

/**
 * Integer division truncating toward zero, as C, ONNX and WGSL do. Division by zero yields 0 (WGSL would
 * return the dividend; GPU kernels select 0 so that interpreter and kernels agree). The quotient of two
 * integers below 2^32 is never close enough to an integer boundary for float64 rounding to change the trunc.
 */
const intDiv = (x: number, y: number): number => (y === 0 ? 0 : Math.trunc(x / y));

/** Cast's target dtype, checked against the dtypes the IR knows. */
function castTarget(attrs: AttrReader): DType {
  const to = attrs.string('to');
  if (!isDType(to)) throw new OpError(`Cast: 'to' must be a dtype name (one of ${ALL_DTYPES.join(', ')}), got '${to}'`);
  return to;
}

export const ELEMENTWISE_OPS: readonly ElementwiseRow[] = [
  // Unary float math.
  row('Sqrt', 1, FLOAT, 'same', Math.sqrt),
  row('Exp', 1, FLOAT, 'same', Math.exp),
  row('Log', 1, FLOAT, 'same', Math.log),
  row('Tanh', 1, FLOAT, 'same', Math.tanh),
  row('Sigmoid', 1, FLOAT, 'same', sigmoid),
  row('Erf', 1, FLOAT, 'same', erf),
  row('Reciprocal', 1, FLOAT, 'same', (x) => 1 / x),
  // Float in, float out (ONNX): integral values that stay in the input dtype; NaN and ±inf pass through.
  row('Floor', 1, FLOAT, 'same', Math.floor),
  row('Ceil', 1, FLOAT, 'same', Math.ceil),
  row('Round', 1, FLOAT, 'same', roundHalfEven),
  rowWith('LeakyRelu', 1, FLOAT, 'same', ({ attrs }) => {
    const alpha = attrs.float('alpha');
    return (x) => (x < 0 ? alpha * x : x);
  }, { attrs: { alpha: { kind: 'float', default: 0.01 } } }),
  rowWith('Gelu', 1, FLOAT, 'same', ({ attrs }) => (attrs.string('approximate') === 'tanh' ? geluTanh : gelu), {
    attrs: { approximate: { kind: 'string', default: 'none' } },
    check: (attrs) => {
      const a = attrs.string('approximate');
      if (a !== 'none' && a !== 'tanh') throw new OpError(`Gelu: approximate must be 'none' or 'tanh', got '${a}'`);
    },
  }),

  // Unary ops on floats and integers (Neg and Abs wrap at the most negative value, as GPU integers do).
  row('Neg', 1, NUMERIC, 'same', (x) => -x),
  row('Abs', 1, NUMERIC, 'same', Math.abs),
  row('Relu', 1, NUMERIC, 'same', (x) => Math.max(x, 0)),
  // ONNX Clip's min/max inputs are attributes here; an absent bound is no bound. min > max gives max everywhere,
  // as ONNX specifies.
  rowWith('Clip', 1, NUMERIC, 'same', ({ attrs }) => {
    const lo = attrs.optFloat('min') ?? -Infinity;
    const hi = attrs.optFloat('max') ?? Infinity;
    return (x) => Math.min(Math.max(x, lo), hi);
  }, { attrs: { min: { kind: 'float' }, max: { kind: 'float' } } }),
  // Any dtype to any dtype. Rounding to the target does the rest: float->int truncates toward zero, NaN -> 0,
  // ±inf saturates, and narrow integer targets wrap. To bool is x != 0, so NaN -> true, as in ONNX and C.
  rowWith('Cast', 1, ANY, castTarget, ({ attrs }) => (castTarget(attrs) === 'bool' ? (x) => (x !== 0 ? 1 : 0) : (x) => x), {
    attrs: { to: { kind: 'string', required: true } },
  }),

  // Binary arithmetic with numpy broadcasting; operands share one dtype.
  row('Add', 2, NUMERIC, 'same', (x, y) => x + y),
  row('Sub', 2, NUMERIC, 'same', (x, y) => x - y),
  // A 32-bit integer product can exceed 2^53 and lose the low bits float64 would need to wrap; Math.imul keeps
  // exactly the low 32 bits, which is all any integer dtype up to 32 bits retains.
  rowWith('Mul', 2, NUMERIC, 'same', ({ dtype }) =>
    isFloat(dtype) || dtypeInfo(dtype).bits > 32 ? (x, y) => x * y : Math.imul,
  ),
  rowWith('Div', 2, NUMERIC, 'same', ({ dtype }) => (isFloat(dtype) ? (x, y) => x / y : intDiv)),
  // Integer powers wrap like repeated multiplication (intPow, which also defines negative exponents).
  rowWith('Pow', 2, NUMERIC, 'same', ({ dtype }) => {
    if (isFloat(dtype)) return Math.pow;
    const bits = dtypeInfo(dtype).bits;
    return (x, y) => intPow(x, y, bits);
  }),
  // Variadic like ONNX (one input is the identity). NaN propagates, as in numpy; GPU min/max may not, so kernels
  // that must match select NaN explicitly.
  row('Min', VARIADIC, NUMERIC, 'same', Math.min),
  row('Max', VARIADIC, NUMERIC, 'same', Math.max),

  // Comparisons produce bool. Equal also compares bools, as in ONNX; NaN is unequal to everything.
  row('Equal', 2, ANY, 'bool', (x, y) => (x === y ? 1 : 0)),
  row('Less', 2, NUMERIC, 'bool', (x, y) => (x < y ? 1 : 0)),
  row('Greater', 2, NUMERIC, 'bool', (x, y) => (x > y ? 1 : 0)),

  // Where(cond, x, y): 3-way broadcasting; cond is bool, x and y share any one dtype.
  rowWith('Where', 3, ANY, 'same', () => (c, x, y) => (c !== 0 ? x : y), { condition: true }),

  ...MATH_ROWS,
  ...ACTIVATION_ROWS,
  ...INT_ROWS,
  ...BITCAST_ROWS,
];
