// Lowering of SparseMatMul (ir/ops/sparse.ts): x[..., K] . A^T + bias with A in Tiled-CSL, to the 'direct' or
// 'scatter' kernel (compiler/kernels/sparse-matmul.ts), followed by the split-K reduction when the K-tiles are
// cut into slices or y is packed two halves per word. The node's `variant` and `split_k` attributes pick the
// kernel and the slices (compiler/sparse/select.ts sets the variant from the device cost model; 'auto', for graphs
// that state SparseMatMul themselves, and split_k 0 resolve by shape in sparse-matmul.ts); sparseMatMulSteps lets
// a caller lower the same node with its own choice.
import { AttrReader, type Node, isStaticShape, lookupOp, numel } from '../../ir/index.js';
import { type SparseKernelSpec, type SparseVariant, defaultSparseVariant, planSparseMatMul, sparseFlops } from '../kernels/sparse-matmul.js';
import { sparseMatMulDirect } from '../kernels/sparse-matmul-direct.js';
import { sparseMatMulScatter } from '../kernels/sparse-matmul-scatter.js';
import { sparseSplitKReduce } from '../kernels/sparse-splitk-reduce.js';
import type { TensorSpec } from '../kernels/elementwise.js';
import { storageLayout } from '../wgsl/accessor.js';
import { type ArgRef, type LoweringContext, LoweringError, type NodeLowering, type Step } from './lowering.js';

function tensorSpec(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; SparseMatMul needs static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

export interface SparseKernelChoice {
  /** 'auto' resolves by defaultSparseVariant. */
  readonly variant: SparseVariant | 'auto';
  /** K slices; 0 lets the kernel plan choose. */
  readonly splitK: number;
}

/** The node's own choice, from its attributes. */
export function sparseChoiceOf(node: Node): SparseKernelChoice {
  const a = new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);
  return { variant: a.string('variant') as SparseKernelChoice['variant'], splitK: a.int('split_k') };
}

/** The steps computing a SparseMatMul node with the given kernel choice (its attributes give the format). */
export function sparseMatMulSteps(cx: LoweringContext, node: Node, choice: SparseKernelChoice): Step[] {
  const a = new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);
  const [xName, itemsName, offsetsName, biasName] = node.inputs as [string, string, string, string | undefined];
  const hasBias = biasName !== undefined && biasName !== '';
  const yName = node.outputs[0]!;
  const x = tensorSpec(cx, xName);
  const y = tensorSpec(cx, yName);
  const m = a.int('m');
  const k = a.int('k');
  const n = numel(x.shape.slice(0, -1));
  if (numel(y.shape) === 0) return [];
  const variant = choice.variant === 'auto' ? defaultSparseVariant(n) : choice.variant;
  const values = a.string('values') as 'f16' | 'f32';
  const entries = numel(tensorSpec(cx, itemsName).shape) / (values === 'f16' ? 1 : 2);
  const plan = planSparseMatMul(
    cx.target,
    {
      m,
      k,
      n,
      tileM: a.int('tile_m'),
      tileK: a.int('tile_k'),
      values,
      x,
      stored: entries > 0,
      entries,
      offsets: tensorSpec(cx, offsetsName),
      y,
      yUnpacked: storageLayout(y.dtype, numel(y.shape), cx.target).lanes === 1,
      ...(hasBias ? { bias: tensorSpec(cx, biasName) } : {}),
    },
    { variant, splitK: choice.splitK },
  );
  const inputs: ArgRef[] = [{ value: xName }, { value: itemsName }, { value: offsetsName }];
  const bias: ArgRef[] = hasBias ? [{ value: biasName }] : [];
  const main = (spec: SparseKernelSpec) => (spec.kernel === 'sparse-matmul-direct' ? cx.kernel(sparseMatMulDirect, spec) : cx.kernel(sparseMatMulScatter, spec));
  if (!plan.reduce) return [{ kernel: main(plan.main), args: [...inputs, ...bias, { value: yName }], flops: sparseFlops(plan.main, entries) }];
  const partials: ArgRef = { scratch: 'sparse-partials', bytes: Math.max(4, numel(plan.reduce.partials.shape) * 4) };
  return [
    { kernel: main(plan.main), args: [...inputs, partials], flops: sparseFlops(plan.main, entries) },
    { kernel: cx.kernel(sparseSplitKReduce, plan.reduce), args: [partials, ...bias, { value: yName }], flops: plan.reduce.splitK * numel(y.shape) },
  ];
}

const lowerSparseMatMul: NodeLowering = (node, cx) => ({ kind: 'steps', steps: sparseMatMulSteps(cx, node, sparseChoiceOf(node)) });

export const SPARSE_LOWERINGS: Record<string, NodeLowering> = {
  SparseMatMul: lowerSparseMatMul,
};
