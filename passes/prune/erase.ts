// Erasing (OTOv3's GeZIG mode, papers.md §1.4): when every channel of a group goes, the operators that computed
// it go too. The group's consumers then contract over nothing: a MatMul, Gemm or Conv whose weight has no input
// columns left produces zeros (plus its bias). Where that result only joins a residual Add, the Add becomes its
// other operand (or that operand plus the bias), and everything that fed the erased group is dead: the attention
// block or MLP disappears, leaving the residual path. Any other use of the zeros is not rewritten: the caller then
// keeps one channel of the group instead.
import { type Graph, type Node, matmulOperands, updateGraph } from '../../ir/index.js';
import { liveValues } from '../eliminate-dead.js';

/** The consumers contracting over nothing, with their bias (a per-channel constant added to zeros), if any. */
function emptyContractions(g: Graph): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const n of g.nodes) {
    const ops = matmulOperands(n, (v) => g.types.get(v));
    if (ops && ops.k === 0 && ops.alpha === 1 && ops.beta === 1) out.set(n.outputs[0]!, ops.bias);
    else if (n.op === 'Conv' && g.types.get(n.inputs[1]!)?.shape[1] === 0) out.set(n.outputs[0]!, n.inputs[2] || undefined);
  }
  return out;
}

/**
 * g with the empty contractions' results folded into the residual Adds that read them, and the dead nodes (the
 * erased operators) dropped; undefined when some empty contraction feeds anything else.
 */
export function eraseEmpty(g: Graph): Graph | undefined {
  const zero = emptyContractions(g);
  if (!zero.size) return undefined;
  const constants = new Set(g.constants.map((c) => c.name));
  const rename = new Map<string, string>();
  const name = (v: string): string => rename.get(v) ?? v;
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    const ins = n.inputs.map(name);
    const out = n.outputs[0]!;
    if (zero.has(out)) {
      nodes.push(n); // dead once its readers are rewritten
      continue;
    }
    const hit = ins.findIndex((v) => zero.has(v));
    if (hit < 0) {
      nodes.push({ ...n, inputs: ins });
      continue;
    }
    if (n.op !== 'Add' || ins.length !== 2) return undefined;
    const other = ins[1 - hit]!;
    const bias = zero.get(ins[hit]!);
    // zeros + a per-channel constant: the constant, still to be added to whatever it joins next.
    if (constants.has(other) && bias === undefined) zero.set(out, other);
    else if (zero.has(other)) return undefined;
    else if (bias !== undefined) nodes.push({ ...n, inputs: [other, bias] });
    else if (g.outputs.includes(out)) return undefined;
    else rename.set(out, other);
  }
  const outputs = g.outputs.map(name);
  if (outputs.some((o) => zero.has(o))) return undefined;
  const next = updateGraph(g, { nodes, outputs });
  const live = liveValues(next);
  // Nothing empty may survive: neither the zeros nor a constant sliced to nothing (a concatenation's empty part),
  // nor a state input (a KV cache that would hold no heads: the runtime keeps every declared input and output).
  const empty = (shape: readonly (number | string)[]): boolean => shape.includes(0);
  if ([...zero.keys()].some((v) => live.has(v)) || next.constants.some((c) => live.has(c.name) && empty(c.type.shape)) || next.inputs.some((i) => empty(i.type.shape))) return undefined;
  return updateGraph(next, { nodes: next.nodes.filter((n) => n.outputs.some((o) => live.has(o))), constants: next.constants.filter((c) => live.has(c.name)) });
}
