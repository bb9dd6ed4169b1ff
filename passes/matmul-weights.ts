// Which constants are matmul weights: 2-D float constants read only as the weight operand of MatMul or Gemm (never
// by anything else, e.g. a Gather of tied embeddings). These are what sparsity applies to: pruning them changes
// nothing but those matmuls, and the compiler may re-encode them for a sparse kernel without keeping a dense copy.
import { type ConstantDecl, type Graph, type Node, consumers, isFloat } from '../ir/index.js';

export interface WeightUse {
  readonly node: Node;
  /** A as Flash-LLM names it: the weight seen as [M = output features, K = input features]. */
  readonly m: number;
  readonly k: number;
  /** True when the constant is stored [K, M] (MatMul, Gemm without transB), so A is its transpose. */
  readonly transposed: boolean;
}

export interface MatmulWeight {
  readonly constant: ConstantDecl;
  readonly uses: readonly WeightUse[];
}

function useOf(node: Node, weight: string, shape: readonly number[]): WeightUse | undefined {
  if (node.op === 'MatMul' && node.inputs[1] === weight && node.inputs[0] !== weight) return { node, m: shape[1]!, k: shape[0]!, transposed: true };
  if (node.op === 'Gemm' && node.inputs[1] === weight && node.inputs[0] !== weight && node.inputs[2] !== weight) {
    if (node.attrs.transA !== undefined && node.attrs.transA !== 0) return undefined;
    const transB = node.attrs.transB !== undefined && node.attrs.transB !== 0;
    return transB ? { node, m: shape[0]!, k: shape[1]!, transposed: false } : { node, m: shape[1]!, k: shape[0]!, transposed: true };
  }
  return undefined;
}

/** Every matmul weight of g, in constant order. */
export function matmulWeights(g: Graph): MatmulWeight[] {
  const readers = consumers(g);
  const out: MatmulWeight[] = [];
  for (const c of g.constants) {
    const shape = c.type.shape;
    if (shape.length !== 2 || shape.some((d) => typeof d !== 'number') || !isFloat(c.type.dtype)) continue;
    if (!c.value && !c.external) continue;
    if (g.outputs.includes(c.name)) continue;
    const nodes = readers.get(c.name) ?? [];
    const uses = nodes.map((n) => useOf(n, c.name, shape as number[]));
    if (nodes.length === 0 || uses.some((u) => u === undefined)) continue;
    out.push({ constant: c, uses: uses as WeightUse[] });
  }
  return out;
}
