// Index arithmetic on u32 expressions with the sizes baked in: div and mod by constants (trivial cases folded) and
// the row-major coordinates of a flat index.
import type { Expr } from '../../wgsl/ast.js';
import { div, lit, mod } from '../../wgsl/dsl.js';

/** `i % n` and `i / n` with the trivial cases folded. */
export const modC = (i: Expr, n: number): Expr => (n === 1 ? lit.u32(0) : mod(i, lit.u32(n)));
export const divC = (i: Expr, n: number): Expr => (n === 1 ? i : div(i, lit.u32(n)));

/** Coordinates of flat index `flat` over `dims` (row-major), as u32 expressions. */
export function unflatten(flat: Expr, dims: readonly number[]): Expr[] {
  let inner = 1;
  const coords: Expr[] = [];
  for (let d = dims.length - 1; d >= 0; d--) {
    const q = inner === 1 ? flat : div(flat, lit.u32(inner));
    coords.unshift(d === 0 ? q : mod(q, lit.u32(dims[d]!)));
    inner *= dims[d]!;
  }
  return coords;
}

/** The components of a vec4, by index. */
export const XYZW = ['x', 'y', 'z', 'w'] as const;
