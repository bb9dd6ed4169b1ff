// A tensor seen as (kept) x (reduced) axis groups, for the row-wise kernels (reductions, softmax, cumsum): size-1
// axes dropped, neighbouring axes of the same kind merged, each group with its baked stride, so any set of axes
// (contiguous or not) is plain index math.
import type { Expr } from '../../wgsl/ast.js';
import { div, lit, mod, mulConst, sumU32 } from '../../wgsl/dsl.js';
import { reduceViewDims } from './view-dims.js';

/** A merged group of axes: how many elements it spans and its stride (in elements) in the tensor. */
export interface Dim {
  readonly size: number;
  readonly stride: number;
}

export interface ReduceView {
  /** Kept groups, outermost first: output element o is their mixed-radix index. */
  readonly kept: readonly Dim[];
  /** Reduced groups, outermost first: reduced element r is their mixed-radix index. */
  readonly reduced: readonly Dim[];
  /** The reduced elements of an output are consecutive in memory (the innermost group is reduced). */
  readonly contiguous: boolean;
  /** Size of the innermost group when it is kept (consecutive outputs are consecutive in memory), else 1. */
  readonly run: number;
}

export function reduceView(shape: readonly number[], axes: readonly number[]): ReduceView {
  // The grouping lives once, in view-dims.ts; over static dims every size and stride it computes is a number.
  return reduceViewDims(shape, axes) as ReduceView;
}

/** The memory offset (u32) of mixed-radix index `flat` over `dims` (flat < product of the sizes). */
export function radixOffset(flat: Expr, dims: readonly Dim[]): Expr {
  const terms: Expr[] = [];
  let inner = 1;
  for (let g = dims.length - 1; g >= 0; g--) {
    const { size, stride } = dims[g]!;
    let coord = inner === 1 ? flat : div(flat, lit.u32(inner));
    if (g > 0) coord = mod(coord, lit.u32(size));
    terms.push(mulConst(coord, stride));
    inner *= size;
  }
  return sumU32(terms.reverse());
}
