// Size arithmetic for kernels whose sizes may be symbolic (read from the dims uniform, wgsl/dims.ts). A static dim
// folds to exactly the constant form of index-math.ts and dsl.ts (so static kernels print as before); a symbolic
// one becomes a read of the uniform. The predicates answer for EVERY value in the symbols' ranges: a symbolic dim
// is ragged against any block, and divisible only when its expression proves it.
import { dimTerms } from '../../../ir/dim.js';
import type { Dim } from '../../../ir/shape.js';
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { div, ge, lit, mod, mul, mulConst, sub } from '../../wgsl/dsl.js';
import { divC, modC } from './index-math.js';
import { workgroupFlat } from './workgroup.js';

/** `e * d` (mulConst when static). */
export const mulDim = (k: KernelBuilder, e: Expr, d: Dim): Expr => (typeof d === 'number' ? mulConst(e, d) : mul(e, k.dim(d)));
/** `e / d` (divC when static). */
export const divDim = (k: KernelBuilder, e: Expr, d: Dim): Expr => (typeof d === 'number' ? divC(e, d) : div(e, k.dim(d)));
/** `e % d` (modC when static). */
export const modDim = (k: KernelBuilder, e: Expr, d: Dim): Expr => (typeof d === 'number' ? modC(e, d) : mod(e, k.dim(d)));
/** `d - c` as u32 (a literal when static); callers ensure d >= c wherever the value is used. */
export const dimMinus = (k: KernelBuilder, d: Dim, c: number): Expr => (typeof d === 'number' ? lit.u32(d - c) : sub(k.dim(d), lit.u32(c)));

/** Whether d is a multiple of c for every value of its symbols (every term's coefficient is). */
export const dimDivisible = (d: Dim, c: number): boolean => (typeof d === 'number' ? d % c === 0 : dimTerms(d).every((t) => t.coef % c === 0));

/** Whether blocks of `block` may leave a partial block over d (always, when d is symbolic). */
export const raggedDim = (d: Dim, block: number): boolean => typeof d !== 'number' || d % block !== 0;

/**
 * workgroupFlat over a possibly symbolic count: the dispatch is sized per run; past one dispatch dimension the
 * padding workgroups leave early (a uniform condition: workgroup id against the dims uniform).
 */
export function workgroupFlatDim(k: KernelBuilder, groups: Dim): Expr {
  if (typeof groups === 'number') return workgroupFlat(k, groups);
  const { wg, padded } = k.workgroupIndexSym(groups);
  if (padded) k.if(ge(wg, k.dim(groups)), () => k.return());
  return wg;
}
