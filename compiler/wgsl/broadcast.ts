// Broadcast index maps with the shapes baked in as constants: given the static output and input shapes (numpy
// broadcasting), the input's flat index as an expression of the output's flat index. Axes are first simplified
// (size-1 output axes dropped, neighbouring axes with the same broadcast behaviour merged), so the common cases
// print as `i`, `0u`, `i % 7u` or `i / 12u` rather than a per-axis odometer.
import { dimMul } from '../../ir/dim.js';
import type { Dim } from '../../ir/shape.js';
import type { Expr } from './ast.js';
import { div, lit, mod, mul, mulConst, sumU32 } from './dsl.js';

interface Group<D extends Dim> {
  /** The input varies along this group (false: it is broadcast). */
  readonly varies: boolean;
  readonly size: D;
}

/**
 * Merged axis groups of `outShape` seen from `inShape`; throws if `inShape` does not broadcast to `outShape`.
 * Static shapes give static group sizes; symbolic ones give products of dims (ir/dim.ts).
 */
export function broadcastGroups<D extends Dim>(outShape: readonly D[], inShape: readonly D[]): Group<D>[] {
  if (inShape.length > outShape.length) throw new Error(`cannot broadcast [${inShape}] to [${outShape}]`);
  const pad = outShape.length - inShape.length;
  const groups: { varies: boolean; size: D }[] = [];
  outShape.forEach((d, a) => {
    const src = a < pad ? 1 : inShape[a - pad]!;
    if (src !== d && src !== 1) throw new Error(`cannot broadcast [${inShape}] to [${outShape}] (axis ${a}: ${src} vs ${d})`);
    if (d === 1) return;
    const varies = src === d;
    const last = groups[groups.length - 1];
    if (last && last.varies === varies) last.size = dimMul(last.size, d) as D;
    else groups.push({ varies, size: d });
  });
  return groups;
}

/** The input flat index (u32 expression) for output flat index `outFlat`, which must be < numel(outShape). */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[], outFlat: Expr): Expr {
  return broadcastIndexDims(outShape, inShape, outFlat, (d) => lit.u32(d as number));
}

/**
 * broadcastIndex over shapes that may have symbolic dims: group sizes and strides are dims, which `dim` turns into
 * expressions (literals when static, reads of the dims uniform otherwise; see wgsl/dims.ts).
 */
export function broadcastIndexDims(outShape: readonly Dim[], inShape: readonly Dim[], outFlat: Expr, dim: (d: Dim) => Expr): Expr {
  const groups = broadcastGroups(outShape, inShape);
  const terms: Expr[] = [];
  let outStride: Dim = 1;
  let inStride: Dim = 1;
  for (let g = groups.length - 1; g >= 0; g--) {
    const { varies, size } = groups[g]!;
    if (varies) {
      let coord = outStride === 1 ? outFlat : div(outFlat, dim(outStride));
      // The outermost group needs no modulo: the output index is in range.
      if (g > 0) coord = mod(coord, dim(size));
      terms.push(typeof inStride === 'number' ? mulConst(coord, inStride) : mul(coord, dim(inStride)));
      inStride = dimMul(inStride, size);
    }
    outStride = dimMul(outStride, size);
  }
  return sumU32(terms.reverse());
}
