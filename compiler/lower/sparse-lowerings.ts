// Lowering of a MatMul or Gemm whose weight is a Tiled-CSL constant read in place (passes/materialize-encodings.ts
// readsInPlace): y = x[..., K] . A^T (+ bias) to the 'direct' or 'scatter' kernel (compiler/kernels/sparse-matmul.ts),
// followed by the split-K reduction when the K-tiles are cut into slices or y is packed two halves per word. The
// kernel variant is this lowering's decision: the device profile's cost model (passes/sparse/cost-model.ts) ranks
// the variants for this use's rows N, unless the compile forces one (CompileOptions.sparseKernel, for tests and
// benches); split-K follows from the shape (chooseSplitK) unless forced too. The choice is recorded on the step (SparseChoice) for the
// manifest's per-layer report and `kiln inspect`.
import { type Node, type Tensor, cslOffsetWords, isStaticShape, matmulOperands, numel, storedMatrix, tiledCslFromBuffers, tiledCslWordsPerEntry } from '../../ir/index.js';
import { rankKernels } from '../../passes/index.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { type SparseKernelSpec, type SparseVariant, planSparseMatMul, sparseFlops } from '../kernels/sparse-matmul.js';
import { sparseMatMulDirect } from '../kernels/sparse-matmul-direct.js';
import { sparseMatMulScatter } from '../kernels/sparse-matmul-scatter.js';
import { sparseSplitKReduce } from '../kernels/sparse-splitk-reduce.js';
import { storageLayout } from '../wgsl/accessor.js';
import { type ArgRef, type LoweringContext, LoweringError, type Step } from './lowering.js';

/** The region names of a Tiled-CSL constant's two parts (compile.ts plans them as separate weight segments). */
export const cslPart = (weight: string, part: 'items' | 'offsets'): string => `${weight}#${part}`;

function tensorSpec(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; a sparse matmul needs static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

/** A forced kernel choice (tests and benches compare the variants): one for every sparse use, or per node. */
export interface SparseOverride {
  readonly variant: SparseVariant;
  /** K slices; absent or 0: by shape. */
  readonly splitK?: number;
}
/** Per node: the function gets the node and the name of the graph (the entry point) it is in. */
export type SparseKernelOverride = SparseOverride | ((node: Node, graph: string) => SparseOverride | undefined);

/** What the lowering chose for one sparse use: recorded on its steps. */
export interface SparseChoice {
  readonly weight: string;
  readonly variant: SparseVariant;
  readonly splitK: number;
}

/** The steps computing a MatMul/Gemm node over its Tiled-CSL weight. */
export function sparseMatMulSteps(cx: LoweringContext, node: Node, stored: Tensor): Step[] {
  const use = matmulOperands(node, (v) => cx.typeOf(v))!;
  const wt = cx.typeOf(use.w);
  if (wt.encoding.kind !== 'tiled-csl') throw new LoweringError(`%${use.w} is not Tiled-CSL`);
  const [m, k] = storedMatrix(wt);
  const params = { tileM: wt.encoding.params.tile[0], tileK: wt.encoding.params.tile[1], values: wt.encoding.params.values };
  const offsetWords = cslOffsetWords(wt);
  const words = Uint32Array.from(stored.data);
  const csl = tiledCslFromBuffers(m, k, params, words.subarray(offsetWords), words.subarray(0, offsetWords));
  const yName = node.outputs[0]!;
  const x = tensorSpec(cx, use.x);
  const y = tensorSpec(cx, yName);
  const n = numel(x.shape.slice(0, -1));
  if (numel(y.shape) === 0) return [];
  const entries = csl.items.length / tiledCslWordsPerEntry(params.values);
  const forced = typeof cx.sparseKernel === 'function' ? cx.sparseKernel(node, cx.graphName) : cx.sparseKernel;
  const variant: SparseVariant =
    forced?.variant ??
    (rankKernels(cx.profile, { m, k, n, nnz: csl.nnz, denseElementBytes: wt.dtype === 'f32' ? 4 : 2, sparseBytes: words.length * 4 }).find((e) => e.kernel !== 'dense')!.kernel as SparseVariant);
  const hasBias = use.bias !== undefined && use.bias !== '';
  const plan = planSparseMatMul(
    cx.target,
    {
      m,
      k,
      n,
      ...params,
      x,
      stored: entries > 0,
      entries,
      offsets: { dtype: 'u32', shape: [offsetWords] },
      y,
      yUnpacked: storageLayout(y.dtype, numel(y.shape), cx.target).lanes === 1,
      ...(hasBias ? { bias: tensorSpec(cx, use.bias!) } : {}),
    },
    { variant, splitK: forced?.splitK ?? 0 },
  );
  const sparse: SparseChoice = { weight: use.w, variant, splitK: plan.reduce?.splitK ?? 1 };
  const inputs: ArgRef[] = [{ value: use.x }, { value: cslPart(use.w, 'items') }, { value: cslPart(use.w, 'offsets') }];
  const bias: ArgRef[] = hasBias ? [{ value: use.bias! }] : [];
  const main = (spec: SparseKernelSpec) => (spec.kernel === 'sparse-matmul-direct' ? cx.kernel(sparseMatMulDirect, spec) : cx.kernel(sparseMatMulScatter, spec));
  if (!plan.reduce) return [{ kernel: main(plan.main), args: [...inputs, ...bias, { value: yName }], flops: sparseFlops(plan.main, entries), sparse }];
  const partials: ArgRef = { scratch: 'sparse-partials', bytes: Math.max(4, numel(plan.reduce.partials.shape) * 4) };
  return [
    { kernel: main(plan.main), args: [...inputs, partials], flops: sparseFlops(plan.main, entries), sparse },
    { kernel: cx.kernel(sparseSplitKReduce, plan.reduce), args: [partials, ...bias, { value: yName }], flops: plan.reduce.splitK * numel(y.shape), sparse },
  ];
}
