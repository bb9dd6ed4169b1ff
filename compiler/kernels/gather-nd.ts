// GatherND: one output element per invocation (one storage word per invocation for packed dtypes, so any
// dtype works). Output element o is element r of the slice that indices row n addresses (n = o / slice,
// r = o % slice); the row's m components are loaded, negative ones counted from the end of their axis, and
// each is clamped into its axis, so an out-of-range index reads the nearest edge of data, never past it (the
// interpreter reports it as an error instead). Batch dims add the batch's block offset.
import { numel, strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, lit, mulConst, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, clampedIndex, divC, modC, normalizedIndex, storeEachElement } from './lib/index.js';

export interface GatherNdSpec extends KernelSpecBase {
  readonly kernel: 'gather-nd';
  readonly data: TensorSpec;
  /** i32 [..., m]. */
  readonly indices: TensorSpec;
  readonly output: TensorSpec;
  readonly batchDims: number;
  readonly workgroupSize: number;
}

export const gatherNd: KernelGen<GatherNdSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const data = k.input('data', spec.data);
  const indices = k.input('indices', spec.indices);
  const out = k.output('out', spec.output);
  const b = spec.batchDims;
  const m = spec.indices.shape[spec.indices.shape.length - 1]!;
  const inner = spec.data.shape.slice(b);
  const innerStrides = strides(inner);
  const slice = numel(inner.slice(m));
  const rows = numel(spec.indices.shape.slice(0, -1));
  const perBatch = rows / Math.max(1, numel(spec.indices.shape.slice(0, b)));
  storeEachElement(k, out, (flat) => {
    const n = k.let('n', divC(flat, slice));
    const terms: Expr[] = [modC(flat, slice)];
    if (b > 0) terms.push(mulConst(divC(n, perBatch), numel(inner)));
    for (let j = 0; j < m; j++) {
      const v = normalizedIndex(k, indices.load(add(mulConst(n, m), lit.u32(j))), inner[j]!);
      terms.push(mulConst(clampedIndex(v, inner[j]!), innerStrides[j]!));
    }
    return data.load(sumU32(terms));
  });
  return k.finish();
};
