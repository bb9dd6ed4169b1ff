// The per-step scalars of the decode ops — `pos` (tokens already in the cache) and `len` (valid rows in this
// step) — reach kernels as uniforms, never as baked constants: the planner puts every i32 scalar graph input a
// step binds with `uniform: true` into the uniform buffer, so one compiled artifact serves every position. The
// kernel declares each as vec4<i32> (a uniform binding is at least 16 bytes) and reads the value from `.x`.
//
// The interpreter rejects a negative pos and a len outside 0..rows; a kernel must stay in bounds whatever the
// host writes, so both are clamped here and every index derived from them is safe.
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { builtin, convert, lit, member, vecType } from '../../wgsl/dsl.js';

/** Bytes of one scalar's uniform binding (vec4<i32>); matches the planner's spacing of uniform values. */
const SCALAR_UNIFORM_BYTES = 16;

/** Declare the uniform binding `name` (an i32 scalar graph input) and read its value once, as i32. */
export function stepScalar(k: KernelBuilder, name: string): Expr {
  const binding = k.uniform(`${name}_u`, vecType(4, 'i32'), SCALAR_UNIFORM_BYTES);
  return k.let(name, member(binding, 'x'));
}

/** The position as u32, negative values read as 0. */
export function stepPos(k: KernelBuilder, name = 'pos'): Expr {
  return k.let(`${name}0`, convert('u32', builtin('max', stepScalar(k, name), lit.i32(0))));
}

/** The valid-row count as u32, clamped to 0..rows. */
export function stepLen(k: KernelBuilder, rows: number, name = 'len'): Expr {
  return k.let(`${name}0`, convert('u32', builtin('clamp', stepScalar(k, name), lit.i32(0), lit.i32(rows))));
}
