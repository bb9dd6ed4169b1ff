// Index arithmetic on u32 expressions with the sizes baked in: div and mod by constants (trivial cases folded) and
// the row-major coordinates of a flat index; unflattenDims is the same over symbolic sizes.
import { dimAdd, dimFloorDiv, dimMul, dimTerms } from '../../../ir/dim.js';
import type { Dim } from '../../../ir/shape.js';
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

/**
 * unflatten over dims that may be symbolic: `dim` turns a size into a u32 expression (KernelBuilder.dim). For
 * static dims it builds exactly what unflatten does.
 */
export function unflattenDims(flat: Expr, dims: readonly Dim[], dim: (d: Dim) => Expr): Expr[] {
  let inner: Dim = 1;
  const coords: Expr[] = [];
  for (let d = dims.length - 1; d >= 0; d--) {
    const q = inner === 1 ? flat : div(flat, dim(inner));
    coords.unshift(d === 0 ? q : mod(q, dim(dims[d]!)));
    inner = dimMul(inner, dims[d]!);
  }
  return coords;
}

/**
 * A dim as (positive part) - (negative part), each a sum of terms with positive coefficients, so a signed
 * multiplier or offset over symbols (a reversed slice's -2*width, a concat source's -sequence) becomes u32 index
 * math that never goes below zero on the way. Numbers split by sign.
 */
export function dimSignParts(d: Dim): { readonly pos: Dim; readonly neg: Dim } {
  if (typeof d === 'number') return { pos: Math.max(d, 0), neg: Math.max(-d, 0) };
  let pos: Dim = 0;
  let neg: Dim = 0;
  for (const t of dimTerms(d)) {
    const mag = t.atoms.reduce<Dim>((acc, a) => dimMul(acc, typeof a === 'string' ? a : dimFloorDiv(a.of, a.by)), Math.abs(t.coef));
    if (t.coef > 0) pos = dimAdd(pos, mag);
    else neg = dimAdd(neg, mag);
  }
  return { pos, neg };
}

/** The components of a vec4, by index. */
export const XYZW = ['x', 'y', 'z', 'w'] as const;
