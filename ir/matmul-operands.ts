// The one reading of a MatMul or Gemm node as activation x weight: which input is the weight, its shape as
// Flash-LLM's A[M = output features, K = input features], and whether the tensor holds A or its transpose. Every
// pass and lowering that treats a matmul operand as a weight (pruning, sparse encoding, weight splitting, f16
// storage, the sparse kernels) asks this, so they cannot disagree about Gemm's transB or MatMul's [K, M].
import type { Node } from './graph.js';
import type { TensorType } from './types.js';

export interface MatmulOperands {
  /** The activation (first input). */
  readonly x: string;
  /** The weight (second input). */
  readonly w: string;
  /** Gemm's C, when given. */
  readonly bias?: string;
  /** A = the weight as [M, K]: M output features, K input features. */
  readonly m: number;
  readonly k: number;
  /** True when the tensor is stored [K, M] (MatMul; Gemm without transB), so A is its transpose. */
  readonly transposed: boolean;
  /** Gemm's alpha and beta (1 for MatMul). */
  readonly alpha: number;
  readonly beta: number;
}

const flag = (v: unknown): boolean => v !== undefined && v !== 0;

/**
 * The operands of a MatMul or Gemm whose second input is a static 2-D tensor used only as the weight (not also as
 * x or C), with x not transposed (Gemm transA = 0); undefined for anything else.
 */
export function matmulOperands(node: Node, typeOf: (value: string) => TensorType | undefined): MatmulOperands | undefined {
  if (node.op !== 'MatMul' && node.op !== 'Gemm') return undefined;
  const [x, w, c] = node.inputs as [string, string, string | undefined];
  if (w === undefined || w === x || (c !== undefined && c === w)) return undefined;
  if (node.op === 'Gemm' && flag(node.attrs.transA)) return undefined;
  const shape = typeOf(w)?.shape;
  if (!shape || shape.length !== 2 || typeof shape[0] !== 'number' || typeof shape[1] !== 'number') return undefined;
  const transposed = !(node.op === 'Gemm' && flag(node.attrs.transB));
  const [m, k] = transposed ? [shape[1], shape[0]] : [shape[0], shape[1]];
  const num = (v: unknown): number => (typeof v === 'number' ? v : 1);
  return {
    x,
    w,
    ...(c ? { bias: c } : {}),
    m,
    k,
    transposed,
    alpha: node.op === 'Gemm' ? num(node.attrs.alpha) : 1,
    beta: node.op === 'Gemm' ? num(node.attrs.beta) : 1,
  };
}
