// Operand-cast fusion: a Cast from a narrower float (f16, bf16) to f32 whose every reader is a MatMul or Gemm
// operand (A or B) is not run as a kernel; the matmuls bind the narrow tensor itself and widen each element as
// they load it (the matmul kernel reads any dtype per operand). This is how f16-stored weights
// (memory/f16-weights.ts) cost f16 bytes per run instead of an f32 copy of the whole weight.
import { type Graph, type Node, consumers } from '../../ir/index.js';

export interface OperandCastPlan {
  /** Cast output -> the narrow value the matmul binds in its place. */
  readonly sources: ReadonlyMap<string, string>;
  readonly absorbed: ReadonlySet<Node>;
}

const NARROW_FLOATS = new Set(['f16', 'bf16']);

export function planOperandCasts(g: Graph): OperandCastPlan {
  const readers = consumers(g);
  const outputs = new Set(g.outputs);
  const sources = new Map<string, string>();
  const absorbed = new Set<Node>();
  for (const n of g.nodes) {
    if (n.op !== 'Cast' || n.attrs.to !== 'f32') continue;
    const [x] = n.inputs as [string];
    const y = n.outputs[0]!;
    if (!NARROW_FLOATS.has(g.types.get(x)?.dtype ?? '') || outputs.has(y)) continue;
    const rs = readers.get(y) ?? [];
    const operandOnly = (r: Node): boolean => (r.op === 'MatMul' || r.op === 'Gemm') && r.inputs.every((v, i) => v !== y || i < 2);
    if (rs.length === 0 || !rs.every(operandOnly)) continue;
    sources.set(y, x);
    absorbed.add(n);
  }
  return { sources, absorbed };
}
