// Float operations whose WGSL builtins leave IEEE cases to the implementation, routed through the prelude
// (compiler/wgsl/prelude.ts) so kernels agree with the interpreter: NaN-propagating min/max with -0 < +0, the NaN
// test, and multiplication by a constant that a driver could fold away.
import type { Expr, Scalar } from '../../wgsl/ast.js';
import { builtin, call, lit, mul } from '../../wgsl/dsl.js';

/**
 * max/min as the interpreter's Math.max/Math.min: for f32 the prelude's kiln_max/kiln_min (NaN propagates, -0 <
 * +0; WGSL's max and min leave both unspecified); integers use the builtins.
 */
export function pick(fn: 'max' | 'min', scalar: Scalar, a: Expr, b: Expr): Expr {
  return scalar === 'f32' ? call(`kiln_${fn}`, a, b) : builtin(fn, a, b);
}

/** Whether an f32 is NaN, from its bits (WGSL has no isnan). */
export const isnan = (x: Expr): Expr => call('kiln_isnan', x);

/**
 * c * x for a constant c, as IEEE arithmetic also for c = ±0, which drivers may fold to 0 (the prelude's
 * kiln_mul_zero gives NaN for non-finite x and a zero with the product's sign).
 */
export function mulConstF32(c: number, x: Expr): Expr {
  if (c !== 0) return mul(lit.f32(c), x);
  return call('kiln_mul_zero', x, lit.u32(Object.is(c, -0) ? 0x80000000 : 0));
}
