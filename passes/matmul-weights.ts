// Which constants are matmul weights: 2-D float constants read only as the weight operand of MatMul or Gemm
// (ir/matmul-operands.ts; never by anything else, e.g. a Gather of tied embeddings). These are what sparsity applies
// to: pruning them changes nothing but those matmuls, and a pass may re-encode them for a sparse kernel without
// keeping a dense copy.
import { type ConstantDecl, type Graph, type MatmulOperands, type Node, type TensorType, consumers, isFloat, isPlainStorage, matmulOperands } from '../ir/index.js';

export interface WeightUse extends MatmulOperands {
  readonly node: Node;
}

export interface MatmulWeight {
  readonly constant: ConstantDecl;
  readonly uses: readonly WeightUse[];
}

/**
 * Every matmul weight of g, in constant order. With `arranged`, also dense weights stored in another layout
 * (arrange-layout's panels): reports list them; the storage passes, which run before any layout is chosen and
 * rewrite stored values, must not see them.
 */
export function matmulWeights(g: Graph, opts: { readonly arranged?: boolean; readonly gathers?: boolean } = {}): MatmulWeight[] {
  const readers = consumers(g);
  const typeOf = (v: string) => g.types.get(v);
  const out: MatmulWeight[] = [];
  for (const c of g.constants) {
    const shape = c.type.shape;
    if (shape.length !== 2 || shape.some((d) => typeof d !== 'number') || !isFloat(c.type.dtype)) continue;
    const stored = isPlainStorage(c.type) || (opts.arranged === true && c.type.encoding.kind === 'dense');
    if ((!c.value && !c.external) || !stored) continue; // an encoded weight was already chosen for
    if (g.outputs.includes(c.name)) continue;
    const nodes = readers.get(c.name) ?? [];
    // With `gathers`, rows gathered along axis 0 (a tied embedding) may read the weight too; `uses` lists the matmuls.
    const gathered = (node: Node): boolean => opts.gathers === true && node.op === 'Gather' && node.inputs[0] === c.name && node.inputs[1] !== c.name && Number(node.attrs.axis ?? 0) === 0;
    const uses = nodes.filter((node) => !gathered(node)).map((node) => {
      const ops = matmulOperands(node, typeOf);
      return ops && ops.w === c.name && ops.x !== c.name ? { ...ops, node } : undefined;
    });
    if (uses.length === 0 || uses.some((u) => u === undefined)) continue;
    out.push({ constant: c, uses: uses as WeightUse[] });
  }
  return out;
}

/**
 * Whether a matmul's sparse kernels can read its weight as Tiled-CSL in place: y = x . A^T (+ a per-column bias)
 * with no Gemm scaling and an x of rank >= 1. Other uses of an encoded weight read it decoded.
 */
export function sparseReadable(u: MatmulOperands, typeOf: (v: string) => TensorType | undefined): boolean {
  if ((typeOf(u.x)?.shape.length ?? 0) < 1 || u.alpha !== 1 || u.beta !== 1) return false;
  if (u.bias === undefined || u.bias === '') return true;
  const shape = typeOf(u.bias)?.shape;
  return shape !== undefined && shape.length === 1 && shape[0] === u.m;
}
