// Elementwise rows on integers: Mod (and its float form), the shifts and the bitwise ops, and the integer power
// Pow uses for integer dtypes. Results wrap to the dtype as GPU integer arithmetic does (the machinery rounds
// every result to the output dtype); JS bitwise operators work on the low 32 bits, which is all any integer
// dtype up to 32 bits has, and i64 (import-time constant folding only) goes through BigInt.
import { dtypeInfo, isFloat } from '../dtype.js';
import { type AttrReader, OpError } from '../op.js';
import type { ElementwiseRow, ScalarFn } from './elementwise.js';
import { INT, NUMERIC, rowWith } from './elementwise-rows.js';

/**
 * x^y for integers, wrapping like repeated GPU multiplication (Math.imul keeps the exact low 32 bits). Negative
 * exponents, which numpy refuses, give trunc(1/x^|y|): 1 for x = 1, ±1 for x = -1, and 0 otherwise (0 for x = 0
 * too, as integer division by zero gives 0 in kiln).
 */
export function intPow(x: number, y: number, bits: number): number {
  if (y < 0) return x === 1 ? 1 : x === -1 ? (y % 2 === 0 ? 1 : -1) : 0;
  const mul = bits > 32 ? (a: number, b: number) => a * b : Math.imul;
  let [acc, base, n] = [1, x, y];
  for (;;) {
    if (n % 2 === 1) acc = mul(acc, base);
    n = Math.floor(n / 2);
    if (n === 0) return acc;
    base = mul(base, base);
  }
}

/**
 * ONNX Mod. fmod = 1: C's fmod, the remainder of truncated division, with the sign of the dividend (exact for
 * floats too). fmod = 0: Python's %, the remainder of floored division, with the sign of the divisor (numpy's
 * np.mod: a zero float result takes the divisor's sign). An integer divisor of 0 gives 0 (as integer Div does);
 * a float one NaN.
 */
function mod(floored: boolean, float: boolean): ScalarFn {
  if (!float) {
    return (x, y) => {
      if (y === 0) return 0;
      const r = x % y;
      return floored && r !== 0 && r < 0 !== y < 0 ? r + y : r;
    };
  }
  if (!floored) return (x, y) => x % y;
  return (x, y) => {
    const r = x % y;
    if (Number.isNaN(r)) return r;
    if (r === 0) return y < 0 ? -0 : 0;
    return r < 0 !== y < 0 ? r + y : r;
  };
}

function fmodFlag(attrs: AttrReader): boolean {
  const f = attrs.int('fmod');
  if (f !== 0 && f !== 1) throw new OpError(`Mod: fmod must be 0 or 1, got ${f}`);
  return f === 1;
}

/**
 * numpy's shifts for a `bits`-wide integer: a shift by a negative amount or by the width or more gives 0 (left),
 * or fills with the sign (right, which is arithmetic for signed dtypes); left shifts wrap.
 */
function shift(left: boolean, bits: number): ScalarFn {
  if (left) return (x, y) => (y < 0 || y >= bits ? 0 : x * 2 ** y);
  return (x, y) => (y < 0 || y >= bits ? (x < 0 ? -1 : 0) : Math.floor(x / 2 ** y));
}

type BigOp = (a: bigint, b: bigint) => bigint;

/** A bitwise op: on the low 32 bits for dtypes up to 32 bits, through BigInt for i64. */
function bitwise(name: string, arity: 1 | 2, small: ScalarFn, big: BigOp): ElementwiseRow {
  return rowWith(name, arity, INT, 'same', ({ dtype }) =>
    dtypeInfo(dtype).bits <= 32 ? small : (...xs) => Number(BigInt.asIntN(64, big(BigInt(xs[0]!), BigInt(xs[1] ?? 0)))),
  );
}

export const INT_ROWS: readonly ElementwiseRow[] = [
  rowWith('Mod', 2, NUMERIC, 'same', ({ attrs, dtype }) => mod(!fmodFlag(attrs), isFloat(dtype)), {
    attrs: { fmod: { kind: 'int', default: 0 } },
    check: (attrs) => void fmodFlag(attrs),
  }),
  // ONNX BitShift, one op per direction.
  rowWith('BitShiftLeft', 2, INT, 'same', ({ dtype }) => shift(true, dtypeInfo(dtype).bits)),
  rowWith('BitShiftRight', 2, INT, 'same', ({ dtype }) => shift(false, dtypeInfo(dtype).bits)),
  bitwise('BitwiseAnd', 2, (x, y) => x & y, (a, b) => a & b),
  bitwise('BitwiseOr', 2, (x, y) => x | y, (a, b) => a | b),
  bitwise('BitwiseXor', 2, (x, y) => x ^ y, (a, b) => a ^ b),
  bitwise('BitwiseNot', 1, (x) => ~x, (a) => ~a),
];
