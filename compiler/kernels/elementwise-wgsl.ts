// One row per elementwise op: the op's scalar semantics as a WGSL expression builder, mirroring the reference rows
// in ir/ops/elementwise-table.ts. Operands arrive as compute scalars (lib/convert.ts: f32 for every float dtype,
// i32/u32 for integers, bool) and a row returns the output dtype's compute scalar; the kernel wraps and rounds
// to the output dtype when storing. WGSL leaves many float special cases indeterminate (x/0, log of 0 or a
// negative, sqrt of a negative, pow, tanh of large |x|), so rows handle them explicitly to match the reference.
// The families of further rows (math, activations, integer ops) live in elementwise-*-wgsl.ts, gathered here.
import type { DType } from '../../ir/dtype.js';
import type { AttrReader } from '../../ir/op.js';
import { intRange } from '../../ir/dtype.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import { add, builtin, call, div, eq, gt, lit, lt, mul, neg, select, sub } from '../wgsl/dsl.js';
import { castExpr, computeScalar, mulConstF32, pick, wrapToDType } from './lib/index.js';
import { ACTIVATION_WGSL, sigmoid } from './elementwise-activations-wgsl.js';
import { BITCAST_WGSL } from './elementwise-bitcast-wgsl.js';
import { INT_WGSL, MATH_WGSL } from './elementwise-math-wgsl.js';

export interface RowContext {
  readonly attrs: AttrReader;
  /** dtype of the data operands (for Where, of x and y; for Cast, of its input). */
  readonly dtype: DType;
  /** dtype of the result. */
  readonly out: DType;
  /** Compute scalar of the data operands. */
  readonly compute: Scalar;
}

export type WgslRow = (xs: readonly Expr[], cx: RowContext) => Expr;

const f = lit.f32;
const NAN = f(NaN);

/** f32 rows only (the IR restricts these ops to float dtypes). */
const float1 =
  (fn: (x: Expr) => Expr): WgslRow =>
  ([x]) =>
    fn(x!);

/**
 * `x < c` for an integer compute value x and a float constant c, decided at compile time where the dtype's
 * range makes it constant.
 */
function intLess(x: Expr, c: number, dt: DType, compute: Scalar): Expr | boolean {
  const [lo, hi] = intRange(dt);
  const k = Math.ceil(c); // x < c  <=>  x < ceil(c) for integer x
  if (k <= lo) return false;
  if (k > hi) return true;
  return lt(x, lit.of(compute, k));
}

function intGreater(x: Expr, c: number, dt: DType, compute: Scalar): Expr | boolean {
  const [lo, hi] = intRange(dt);
  const k = Math.floor(c); // x > c  <=>  x > floor(c) for integer x
  if (k >= hi) return false;
  if (k < lo) return true;
  return gt(x, lit.of(compute, k));
}

const choose = (cond: Expr | boolean, ifTrue: Expr, ifFalse: Expr): Expr =>
  cond === true ? ifTrue : cond === false ? ifFalse : select(cond, ifTrue, ifFalse);

/** Clip = min(max(x, lo), hi) in float64, then rounded to the dtype (so out-of-range bounds wrap like Cast). */
function clip(x: Expr, cx: RowContext): Expr {
  const lo = cx.attrs.optFloat('min') ?? -Infinity;
  const hi = cx.attrs.optFloat('max') ?? Infinity;
  if (cx.compute === 'f32') {
    let r = x;
    if (lo > -Infinity) r = pick('max', 'f32', r, f(lo));
    if (hi < Infinity) r = pick('min', 'f32', r, f(hi));
    return r;
  }
  // Integers: both bounds as constants of the dtype (castExpr semantics: truncate, wrap), selected in order.
  const asInt = (c: number): Expr => castExpr(f(c), 'f32', cx.dtype);
  const whenLow = lo > hi ? asInt(hi) : asInt(lo);
  const high = hi < Infinity ? choose(intGreater(x, hi, cx.dtype, cx.compute), asInt(hi), x) : x;
  return lo > -Infinity ? choose(intLess(x, lo, cx.dtype, cx.compute), whenLow, high) : high;
}

export const ELEMENTWISE_WGSL: Readonly<Record<string, WgslRow>> = {
  // Unary float math.
  Sqrt: float1((x) => select(lt(x, f(0)), NAN, builtin('sqrt', x))),
  Exp: float1((x) => call('kiln_exp', x)),
  Log: float1((x) => call('kiln_log', x)),
  Tanh: float1((x) => call('kiln_tanh', x)),
  Sigmoid: float1(sigmoid),
  Erf: float1((x) => call('kiln_erf', x)),
  Reciprocal: float1((x) => call('kiln_fdiv', f(1), x)),
  Floor: float1((x) => builtin('floor', x)),
  Ceil: float1((x) => builtin('ceil', x)),
  // WGSL round() rounds ties to even, as ONNX Round does.
  Round: float1((x) => builtin('round', x)),
  LeakyRelu: ([x], cx) => select(lt(x!, f(0)), mulConstF32(cx.attrs.float('alpha'), x!), x!),
  Gelu: ([x], cx) => {
    if (cx.attrs.string('approximate') === 'tanh') {
      // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u): no cancellation in the negative tail.
      const u = mul(f(2 * Math.sqrt(2 / Math.PI)), add(x!, mul(f(0.044715), mul(x!, mul(x!, x!)))));
      return mul(x!, sigmoid(u));
    }
    // x·Φ(x) = 0.5·x·erfc(-x/√2)
    return mul(mul(f(0.5), x!), call('kiln_erfc', mul(neg(x!), f(Math.SQRT1_2))));
  },

  // Unary ops on floats and integers; i32 negation and abs wrap at the most negative value, as the reference.
  Neg: ([x], cx) => (cx.compute === 'u32' ? sub(lit.u32(0), x!) : neg(x!)),
  Abs: ([x], cx) => (cx.compute === 'u32' ? x! : builtin('abs', x!)),
  Relu: ([x], cx) => {
    if (cx.compute === 'u32') return x!;
    return pick('max', cx.compute, x!, lit.of(cx.compute, 0));
  },
  Clip: ([x], cx) => clip(x!, cx),
  Cast: ([x], cx) => castExpr(x!, cx.dtype, cx.out),

  // Binary arithmetic (broadcast by the kernel). Integer results wrap: 32-bit natively, sub-byte at the store.
  // Floats through the prelude's kiln_add/kiln_sub: drivers may fold x - x to 0, which is wrong for NaN and ±inf.
  Add: ([a, b], cx) => (cx.compute === 'f32' ? call('kiln_add', a!, b!) : add(a!, b!)),
  Sub: ([a, b], cx) => (cx.compute === 'f32' ? call('kiln_sub', a!, b!) : sub(a!, b!)),
  Mul: ([a, b]) => mul(a!, b!),
  Div: ([a, b], cx) =>
    cx.compute === 'f32' ? call('kiln_fdiv', a!, b!) : select(eq(b!, lit.of(cx.compute, 0)), lit.of(cx.compute, 0), div(a!, b!)),
  Min: (xs, cx) => xs.reduce((acc, x) => pick('min', cx.compute, acc, x)),
  Max: (xs, cx) => xs.reduce((acc, x) => pick('max', cx.compute, acc, x)),

  // Comparisons produce bool.
  Equal: ([a, b]) => eq(a!, b!),
  Less: ([a, b]) => lt(a!, b!),
  Greater: ([a, b]) => gt(a!, b!),

  Where: ([c, x, y]) => select(c!, x!, y!),

  // Pow (float and integer) is in INT_WGSL.
  ...MATH_WGSL,
  ...ACTIVATION_WGSL,
  ...INT_WGSL,
  ...BITCAST_WGSL,
};

/**
 * The row's expression for compute-scalar operands, re-wrapped to the output dtype's width (a no-op for 32-bit
 * and float dtypes) so a sub-byte result is a valid value of its dtype even before it is stored.
 */
export function elementwiseExpr(op: string, xs: readonly Expr[], cx: Omit<RowContext, 'compute'>): Expr {
  const row = ELEMENTWISE_WGSL[op];
  if (!row) throw new Error(`no WGSL row for elementwise op ${op}`);
  const e = row(xs, { ...cx, compute: computeScalar(cx.dtype) });
  return op === 'Cast' ? e : wrapToDType(e, cx.out); // castExpr has wrapped already
}
