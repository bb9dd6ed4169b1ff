// WGSL rows for the math and integer families of the elementwise table (ir/ops/elementwise-math.ts and
// elementwise-int.ts): trigonometric and hyperbolic functions through the prelude's exactly reduced and
// series-guarded helpers (compiler/wgsl/prelude-trig.ts, prelude-math.ts), Sign and the NaN/infinity tests on
// bits, and Mod, the shifts, the bitwise ops and integer Pow on the i32/u32 compute scalars.
import type { Expr } from '../wgsl/ast.js';
import { and, bitcast, call, eq, gt, lit, lt, mod as modOp, or, select, shl, shr, unary, xor } from '../wgsl/dsl.js';
import type { RowContext, WgslRow } from './elementwise-wgsl.js';
import { isnan } from './lib/index.js';

const helper =
  (fn: string): WgslRow =>
  ([x]) =>
    call(fn, x!);

/** Bits of an f32 with the sign cleared. */
const magnitude = (x: Expr): Expr => and(bitcast('u32', x), lit.u32(0x7fffffff));

/** numpy's sign: ±1, 0 for both zeros, NaN for NaN; 1 or 0 for unsigned integers. */
function sign(x: Expr, cx: RowContext): Expr {
  const c = cx.compute;
  const one = lit.of(c, 1);
  const zero = lit.of(c, 0);
  if (c === 'u32') return select(gt(x, zero), one, zero);
  const rest = c === 'f32' ? select(isnan(x), x, zero) : zero;
  return select(gt(x, zero), one, select(lt(x, zero), lit.of(c, -1), rest));
}

function isInf(x: Expr, cx: RowContext): Expr {
  const pos = cx.attrs.int('detect_positive') !== 0;
  const neg = cx.attrs.int('detect_negative') !== 0;
  if (pos && neg) return eq(magnitude(x), lit.u32(0x7f800000));
  if (pos || neg) return eq(bitcast('u32', x), lit.u32(pos ? 0x7f800000 : 0xff800000));
  return lit.bool(false);
}

/** Mod: exact float fmod (or numpy's floored form); integer remainders with x mod 0 = 0. */
function mod([x, y]: readonly Expr[], cx: RowContext): Expr {
  const floored = cx.attrs.int('fmod') === 0;
  if (cx.compute === 'f32') return call(floored ? 'kiln_fmod_floor' : 'kiln_fmod', x!, y!);
  if (cx.compute === 'i32') return call('kiln_imod', x!, y!, lit.bool(floored));
  // u32: the divisor is made nonzero so that the remainder is never taken by 0, whose result WGSL leaves open.
  const [zero, divisorIsZero] = [lit.u32(0), eq(y!, lit.u32(0))];
  return select(divisorIsZero, zero, modOp(x!, select(divisorIsZero, lit.u32(1), y!)));
}

/**
 * numpy's shifts: amounts outside [0, 32) (negative i32 amounts read as huge u32) give 0, or the sign fill for a
 * right shift; within, a narrower dtype's width is handled by the wrap to the dtype (a left shift past it leaves
 * 0, a right shift of its sign-extended value the sign fill).
 */
function bitShift(left: boolean): WgslRow {
  return ([x, y], cx) => {
    const amount = cx.compute === 'i32' ? bitcast('u32', y!) : y!;
    const inRange = lt(amount, lit.u32(32));
    const zero = lit.of(cx.compute, 0);
    if (left) return select(inRange, shl(x!, amount), zero);
    const fill = cx.compute === 'i32' ? select(lt(x!, zero), lit.i32(-1), zero) : zero;
    return select(inRange, shr(x!, amount), fill);
  };
}

function pow([x, y]: readonly Expr[], cx: RowContext): Expr {
  return call(cx.compute === 'f32' ? 'kiln_pow' : cx.compute === 'i32' ? 'kiln_ipow_i32' : 'kiln_ipow_u32', x!, y!);
}

export const MATH_WGSL: Readonly<Record<string, WgslRow>> = {
  Sin: helper('kiln_sin'),
  Cos: helper('kiln_cos'),
  Tan: helper('kiln_tan'),
  Asin: helper('kiln_asin'),
  Acos: helper('kiln_acos'),
  Atan: helper('kiln_atan'),
  Sinh: helper('kiln_sinh'),
  Cosh: helper('kiln_cosh'),
  Asinh: helper('kiln_asinh'),
  Acosh: helper('kiln_acosh'),
  Atanh: helper('kiln_atanh'),
  Sign: ([x], cx) => sign(x!, cx),
  IsNaN: ([x]) => isnan(x!),
  IsInf: ([x], cx) => isInf(x!, cx),
};

export const INT_WGSL: Readonly<Record<string, WgslRow>> = {
  Pow: pow,
  Mod: mod,
  BitShiftLeft: bitShift(true),
  BitShiftRight: bitShift(false),
  BitwiseAnd: ([a, b]) => and(a!, b!),
  BitwiseOr: ([a, b]) => or(a!, b!),
  BitwiseXor: ([a, b]) => xor(a!, b!),
  BitwiseNot: ([a]) => unary('~', a!),
};
