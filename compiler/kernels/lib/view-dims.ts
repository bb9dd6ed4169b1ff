// reduceView (view.ts) over a shape that may hold symbolic dims: the same (kept) x (reduced) groups, with sizes
// and strides as dims, for the row-wise kernels compiled once for every size in the symbols' ranges. Only literal
// size-1 axes are dropped (a symbol may be 1 at run time, which the index math handles like any other size).
import { dimMul } from '../../../ir/dim.js';
import type { Dim } from '../../../ir/shape.js';
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { sumU32 } from '../../wgsl/dsl.js';
import { divDim, modDim, mulDim } from './dim-math.js';

/** A merged group of axes whose size and stride may be symbolic. */
export interface DimGroup {
  readonly size: Dim;
  readonly stride: Dim;
}

export interface ReduceViewDims {
  readonly kept: readonly DimGroup[];
  readonly reduced: readonly DimGroup[];
  /** The innermost group is reduced (an output's reduced elements are consecutive in memory). */
  readonly contiguous: boolean;
  /** Size of the innermost group when it is kept, else 1. */
  readonly run: Dim;
}

export function reduceViewDims(shape: readonly Dim[], axes: readonly number[]): ReduceViewDims {
  const groups: { size: Dim; reduced: boolean }[] = [];
  shape.forEach((d, a) => {
    if (d === 1) return;
    const reduced = axes.includes(a);
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced) last.size = dimMul(last.size, d);
    else groups.push({ size: d, reduced });
  });
  let stride: Dim = 1;
  const dims = groups
    .reverse()
    .map((g) => {
      const dim = { ...g, stride };
      stride = dimMul(stride, g.size);
      return dim;
    })
    .reverse();
  const strip = ({ size, stride: s }: DimGroup): DimGroup => ({ size, stride: s });
  const innermost = dims[dims.length - 1];
  return {
    kept: dims.filter((d) => !d.reduced).map(strip),
    reduced: dims.filter((d) => d.reduced).map(strip),
    contiguous: innermost?.reduced ?? true,
    run: innermost && !innermost.reduced ? innermost.size : 1,
  };
}

/** radixOffset (view.ts) over groups whose sizes and strides are read from the dims uniform when symbolic. */
export function radixOffsetDims(k: KernelBuilder, flat: Expr, dims: readonly DimGroup[]): Expr {
  const terms: Expr[] = [];
  let inner: Dim = 1;
  for (let g = dims.length - 1; g >= 0; g--) {
    const { size, stride } = dims[g]!;
    let coord = inner === 1 ? flat : divDim(k, flat, inner);
    if (g > 0) coord = modDim(k, coord, size);
    terms.push(mulDim(k, coord, stride));
    inner = dimMul(inner, size);
  }
  return sumU32(terms.reverse());
}
