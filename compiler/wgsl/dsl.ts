// Small constructors for AST values, so kernel code reads like the WGSL it builds without holding any WGSL
// text: `add(x, lit.f32(1))`, `select(lt(i, n), a, b)`. Pure functions of their arguments.
import type { BinaryOp, BuiltinFn, Expr, Scalar, Type, UnaryOp, VecWidth } from './ast.js';

export const scalarType = (scalar: Scalar): Type => ({ kind: 'scalar', scalar });
export const vecType = (width: VecWidth, elem: Scalar): Type => ({ kind: 'vec', width, elem });
export const arrayType = (elem: Type, length?: number): Type =>
  length === undefined ? { kind: 'array', elem } : { kind: 'array', elem, length };
export const atomicType = (scalar: 'i32' | 'u32'): Type => ({ kind: 'atomic', scalar });

export const T = {
  f32: scalarType('f32'),
  f16: scalarType('f16'),
  i32: scalarType('i32'),
  u32: scalarType('u32'),
  bool: scalarType('bool'),
} as const;

function checkInt(v: number, lo: number, hi: number, what: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${what} literal out of range: ${v}`);
  return v;
}

export const lit = {
  f32: (value: number): Expr => ({ kind: 'lit', type: 'f32', value }),
  f16: (value: number): Expr => ({ kind: 'lit', type: 'f16', value }),
  i32: (value: number): Expr => ({ kind: 'lit', type: 'i32', value: checkInt(value, -(2 ** 31), 2 ** 31 - 1, 'i32') }),
  u32: (value: number): Expr => ({ kind: 'lit', type: 'u32', value: checkInt(value, 0, 2 ** 32 - 1, 'u32') }),
  bool: (value: boolean): Expr => ({ kind: 'lit', type: 'bool', value }),
  /** A literal of any scalar type (numbers for bool are tested against 0). */
  of: (type: Scalar, value: number): Expr => (type === 'bool' ? lit.bool(value !== 0) : lit[type](value)),
};

export const ident = (name: string): Expr => ({ kind: 'ident', name });
export const unary = (op: UnaryOp, arg: Expr): Expr => ({ kind: 'unary', op, arg });
export const binary = (op: BinaryOp, lhs: Expr, rhs: Expr): Expr => ({ kind: 'binary', op, lhs, rhs });
export const builtin = (fn: BuiltinFn, ...args: Expr[]): Expr => ({ kind: 'builtin', fn, args });
export const call = (fn: string, ...args: Expr[]): Expr => ({ kind: 'call', fn, args });
export const index = (base: Expr, i: Expr): Expr => ({ kind: 'index', base, index: i });
export const member = (base: Expr, name: string): Expr => ({ kind: 'member', base, member: name });
export const construct = (type: Type, ...args: Expr[]): Expr => ({ kind: 'construct', type, args });
/** Conversion to a scalar type: `f32(x)`. */
export const convert = (to: Scalar, arg: Expr): Expr => construct(scalarType(to), arg);
export const bitcast = (to: Scalar, arg: Expr): Expr => ({ kind: 'bitcast', type: scalarType(to), arg });
/** `cond ? ifTrue : ifFalse` (printed as WGSL's select(ifFalse, ifTrue, cond)). */
export const select = (cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr => ({ kind: 'select', cond, ifTrue, ifFalse });
export const addressOf = (arg: Expr): Expr => ({ kind: 'addressOf', arg });

export const neg = (a: Expr): Expr => unary('-', a);
export const not = (a: Expr): Expr => unary('!', a);
export const add = (a: Expr, b: Expr): Expr => binary('+', a, b);
export const sub = (a: Expr, b: Expr): Expr => binary('-', a, b);
export const mul = (a: Expr, b: Expr): Expr => binary('*', a, b);
export const div = (a: Expr, b: Expr): Expr => binary('/', a, b);
export const mod = (a: Expr, b: Expr): Expr => binary('%', a, b);
export const and = (a: Expr, b: Expr): Expr => binary('&', a, b);
export const or = (a: Expr, b: Expr): Expr => binary('|', a, b);
export const xor = (a: Expr, b: Expr): Expr => binary('^', a, b);
export const shl = (a: Expr, b: Expr): Expr => binary('<<', a, b);
export const shr = (a: Expr, b: Expr): Expr => binary('>>', a, b);
export const eq = (a: Expr, b: Expr): Expr => binary('==', a, b);
export const ne = (a: Expr, b: Expr): Expr => binary('!=', a, b);
export const lt = (a: Expr, b: Expr): Expr => binary('<', a, b);
export const le = (a: Expr, b: Expr): Expr => binary('<=', a, b);
export const gt = (a: Expr, b: Expr): Expr => binary('>', a, b);
export const ge = (a: Expr, b: Expr): Expr => binary('>=', a, b);
export const land = (a: Expr, b: Expr): Expr => binary('&&', a, b);
export const lor = (a: Expr, b: Expr): Expr => binary('||', a, b);

/** Multiply by a u32 constant, folding the trivial cases (×1, ×0) so generated index math stays readable. */
export function mulConst(a: Expr, k: number): Expr {
  if (k === 1) return a;
  if (k === 0) return lit.u32(0);
  return mul(a, lit.u32(k));
}

/** Sum of u32 terms, dropping literal zeros. */
export function sumU32(terms: readonly Expr[]): Expr {
  const live = terms.filter((t) => !(t.kind === 'lit' && t.value === 0));
  if (live.length === 0) return lit.u32(0);
  return live.reduce((acc, t) => add(acc, t));
}
