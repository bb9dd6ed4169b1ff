// Elementwise fusion planning: chains of elementwise nodes become one kernel, so intermediates never touch memory.
// A producer joins its consumer's group when every use of its result is inside the group, the result is not a
// graph output, it has the group output's shape (so each output element needs exactly one element of it), and its
// dtype is computed exactly in registers (f32, integers, bool; f16/bf16 intermediates would need rounding
// between ops and stay unfused). Groups are capped so a kernel never needs more storage bindings than WebGPU's
// default limit of 8 (7 inputs + 1 output).
import { type Graph, type Node, consumers, formatShape } from '../../ir/index.js';
import { hasElementwiseKernel } from '../kernels/elementwise.js';

export const MAX_FUSED_INPUTS = 7;

const EXACT_IN_REGISTERS = new Set(['f32', 'i32', 'u32', 'bool', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8']);

/** For each node that roots a fused group, the group's nodes in program order; absorbed nodes map to nothing. */
export interface FusionPlan {
  readonly groups: ReadonlyMap<Node, readonly Node[]>;
  readonly absorbed: ReadonlySet<Node>;
}

/** `exclude`: nodes already fused elsewhere (matmul/conv epilogues), left out of every group. */
export function planElementwiseFusion(g: Graph, exclude: ReadonlySet<Node> = new Set()): FusionPlan {
  const uses = consumers(g);
  const outputs = new Set(g.outputs);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const order = new Map(g.nodes.map((n, i) => [n, i]));
  const groups = new Map<Node, Node[]>();
  const absorbed = new Set<Node>();
  const shapeOf = (v: string): string => formatShape(g.types.get(v)!.shape);

  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const root = g.nodes[i]!;
    if (absorbed.has(root) || exclude.has(root) || !hasElementwiseKernel(root.op)) continue;
    const members = new Set<Node>([root]);
    const rootShape = shapeOf(root.outputs[0]!);
    const externalInputs = (): Set<string> => {
      const produced = new Set([...members].map((m) => m.outputs[0]!));
      return new Set([...members].flatMap((m) => m.inputs.filter((v) => !produced.has(v))));
    };
    let grew = true;
    while (grew) {
      grew = false;
      for (const v of [...externalInputs()].sort()) {
        const p = producer.get(v);
        if (!p || absorbed.has(p) || exclude.has(p) || members.has(p) || !hasElementwiseKernel(p.op)) continue;
        if (outputs.has(v) || shapeOf(v) !== rootShape || !EXACT_IN_REGISTERS.has(g.types.get(v)!.dtype)) continue;
        if (!(uses.get(v) ?? []).every((u) => members.has(u))) continue;
        members.add(p);
        if (externalInputs().size > MAX_FUSED_INPUTS) {
          members.delete(p);
          continue;
        }
        grew = true;
      }
    }
    if (members.size > 1) {
      const list = [...members].sort((a, b) => order.get(a)! - order.get(b)!);
      groups.set(root, list);
      for (const m of list) if (m !== root) absorbed.add(m);
    }
  }
  return { groups, absorbed };
}
