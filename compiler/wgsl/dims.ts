// Symbolic dims in kernels. A program with symbols (batch, sequence, ...) has one uniform buffer holding their
// values at run time, in the program's symbol order, four to a vec4<u32>; a kernel whose tensors have symbolic
// dims binds it as `kiln_dims` and computes sizes, index bounds and strides from it. So one pipeline serves every
// size in the symbols' ranges: nothing is recompiled or re-created per run (DESIGN.md: symbolic dims become
// uniforms). Static dims stay literals. Bindings are sized for the symbols' upper bounds.
import { dimRange, dimTerms } from '../../ir/dim.js';
import type { Dim, SymbolBound } from '../../ir/shape.js';
import type { Expr } from './ast.js';
import { add, convert, div, index, lit, member, mul, sub } from './dsl.js';

/** The program's symbols as kernels see them: the order of their values in the dims buffer, and their bounds. */
export interface DimContext {
  readonly order: readonly string[];
  readonly bounds: Readonly<Record<string, SymbolBound>>;
}

export const DIMS_BINDING = 'kiln_dims';

/** Bytes of the dims uniform: one vec4<u32> per four symbols (at least one: uniform bindings are 16-byte units). */
export const dimsBufferBytes = (symbols: number): number => 16 * Math.max(1, Math.ceil(symbols / 4));

const XYZW = ['x', 'y', 'z', 'w'] as const;

/** The value of symbol `name` read from the dims uniform `buffer` (u32). */
function symbolValue(ctx: DimContext, buffer: Expr, name: string): Expr {
  const i = ctx.order.indexOf(name);
  if (i < 0) throw new Error(`symbol ${name} is not one of the program's symbols (${ctx.order.join(', ') || 'none'})`);
  return member(index(buffer, lit.u32(Math.floor(i / 4))), XYZW[i % 4]!);
}

/**
 * A dim as a u32 expression. Terms are evaluated in i32 (a polynomial may subtract, as in `s-1`) and the sum
 * converted once; a dim is never negative for symbols within their bounds.
 */
export function dimExpr(ctx: DimContext, buffer: Expr, d: Dim): Expr {
  if (typeof d === 'number') return lit.u32(d);
  const terms = dimTerms(d);
  if (terms.length === 1 && terms[0]!.coef === 1 && terms[0]!.atoms.length === 1 && typeof terms[0]!.atoms[0] === 'string')
    return symbolValue(ctx, buffer, terms[0]!.atoms[0]);
  // WGSL's i32 division truncates; a floor-division atom whose inside can go negative within the bounds (canonical
  // forms move terms out: (2*w-h+5)//2 is w + ((5-h)//2)) is shifted by a multiple of the divisor first.
  const floorDiv = (of: Dim, by: number): Expr => {
    const [lo] = dimRange(of, (s) => ctx.bounds[s] ?? { min: 0, max: 0 });
    if (lo >= 0) return div(asI32(of), lit.i32(by));
    const shift = Math.ceil(-lo / by);
    return sub(div(add(asI32(of), lit.i32(shift * by)), lit.i32(by)), lit.i32(shift));
  };
  const asI32 = (x: Dim): Expr => {
    let sum: Expr | undefined;
    for (const t of dimTerms(x)) {
      let e: Expr = lit.i32(Math.abs(t.coef));
      for (const a of t.atoms) {
        const v = typeof a === 'string' ? convert('i32', symbolValue(ctx, buffer, a)) : floorDiv(a.of, a.by);
        e = Math.abs(t.coef) === 1 && e.kind === 'lit' ? v : mul(e, v);
      }
      sum = sum === undefined ? (t.coef < 0 ? sub(lit.i32(0), e) : e) : t.coef < 0 ? sub(sum, e) : add(sum, e);
    }
    return sum ?? lit.i32(0);
  };
  return convert('u32', asI32(d));
}

/** A dim's greatest value over the symbols' bounds (what buffers and bindings are sized for). */
export function dimMax(ctx: DimContext | undefined, d: Dim): number {
  if (typeof d === 'number') return d;
  if (!ctx) throw new Error(`dim ${d} is symbolic but the kernel was given no symbols`);
  return dimRange(d, (s) => {
    const b = ctx.bounds[s];
    if (!b) throw new Error(`symbol ${s} has no bounds`);
    return b;
  })[1];
}
