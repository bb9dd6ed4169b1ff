// Elementwise rows for float math beyond the basics: trigonometric and hyperbolic functions and their inverses,
// Sign, and the NaN/infinity tests. JS's Math functions are fdlibm ports, accurate to an ulp of float64 over the
// whole range (sin of 1e30 included), so on inputs rounded to f32/f16 they are the exact reference the kernels are
// held to. Special values follow C and numpy: sin(±inf) = NaN, asin(2) = NaN, atanh(1) = inf, odd functions keep
// the sign of zero.
import type { ElementwiseRow } from './elementwise.js';
import { FLOAT, NUMERIC, row, rowWith } from './elementwise-rows.js';

/** Logistic function without overflow: exp is only ever taken of a non-positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** numpy's sign: -1, 0 or 1, NaN for NaN; both zeros give +0 (numpy returns the literal 0). */
export const sign = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x);

export const MATH_ROWS: readonly ElementwiseRow[] = [
  row('Sin', 1, FLOAT, 'same', Math.sin),
  row('Cos', 1, FLOAT, 'same', Math.cos),
  row('Tan', 1, FLOAT, 'same', Math.tan),
  row('Asin', 1, FLOAT, 'same', Math.asin),
  row('Acos', 1, FLOAT, 'same', Math.acos),
  row('Atan', 1, FLOAT, 'same', Math.atan),
  row('Sinh', 1, FLOAT, 'same', Math.sinh),
  row('Cosh', 1, FLOAT, 'same', Math.cosh),
  row('Asinh', 1, FLOAT, 'same', Math.asinh),
  row('Acosh', 1, FLOAT, 'same', Math.acosh),
  row('Atanh', 1, FLOAT, 'same', Math.atanh),
  row('Sign', 1, NUMERIC, 'same', sign),
  row('IsNaN', 1, FLOAT, 'bool', (x) => (Number.isNaN(x) ? 1 : 0)),
  rowWith('IsInf', 1, FLOAT, 'bool', ({ attrs }) => {
    const pos = attrs.int('detect_positive') !== 0;
    const neg = attrs.int('detect_negative') !== 0;
    return (x) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0);
  }, { attrs: { detect_positive: { kind: 'int', default: 1 }, detect_negative: { kind: 'int', default: 1 } } }),
];
