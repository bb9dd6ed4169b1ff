// eliminate-dead: drop nodes none of whose results reach a graph output, and constants nothing reads (an encoding's
// scales and zero points are read by the constant that names them).
// Graph inputs are the model's interface and stay, used or not.
import { type Graph, type Node, encodingRefs, nodeReads, updateGraph } from '../ir/index.js';
import { EXACT, type Pass, bump } from './pass.js';

export function liveValues(g: Graph): Set<string> {
  const live = new Set<string>(g.outputs);
  // Walk backwards: nodes are topologically ordered, so one sweep suffices.
  for (let k = g.nodes.length - 1; k >= 0; k--) {
    const n = g.nodes[k]!;
    // A region op also reads what its regions read of the enclosing graph.
    if (n.outputs.some((o) => live.has(o))) for (const i of nodeReads(n)) live.add(i);
  }
  // A live constant keeps what its encoding reads (a quant encoding's scales and zeros).
  for (const c of g.constants) if (live.has(c.name)) for (const r of encodingRefs(c.type.encoding)) live.add(r);
  return live;
}

export const eliminateDead: Pass = {
  name: 'eliminate-dead',
  summary: 'Remove nodes whose results are never used and constants nothing reads.',
  tolerance: EXACT,
  run(g, cx) {
    const live = liveValues(g);
    const nodes: Node[] = g.nodes.filter((n) => n.outputs.some((o) => live.has(o)));
    const constants = g.constants.filter((c) => live.has(c.name));
    bump(cx, 'nodes-removed', g.nodes.length - nodes.length);
    bump(cx, 'constants-removed', g.constants.length - constants.length);
    if (nodes.length === g.nodes.length && constants.length === g.constants.length) return g;
    return updateGraph(g, { nodes, constants });
  },
};
