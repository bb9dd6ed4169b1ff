// infer-shapes: give every node output its type by running each op's type inference in program order.
// Parsed .kir files may leave result types out; every later pass and the kernel generators rely on them.
import { type Graph, OpError, type TensorType, describeNode, formatLoc, inferNode, knownConstants, lookupOp } from '../ir/index.js';
import { EXACT, type Pass, bump } from './pass.js';

export const inferShapes: Pass = {
  name: 'infer-shapes',
  summary: 'Annotate every value with its inferred dtype and shape.',
  tolerance: EXACT,
  run(g, cx) {
    const types = new Map<string, TensorType>(g.types);
    // Region ops (If, Loop, Scan) type their regions first; a Loop's trip count may be a constant's value.
    const known = knownConstants(g);
    const nodes = g.nodes.map((node) => {
      const def = lookupOp(node.op);
      const where = `${formatLoc(node.loc)}${describeNode(node)}`;
      if (!def) throw new OpError(`${where}: unknown op '${node.op}'`);
      const ins = node.inputs.map((i) => {
        if (i === '') return undefined;
        const t = types.get(i);
        if (!t) throw new OpError(`${where}: %${i} has no type`);
        return t;
      });
      let outs: TensorType[];
      let typed = node;
      try {
        ({ types: outs, node: typed } = inferNode(node, ins, (v) => types.get(v), (v) => known.get(v)));
      } catch (e) {
        if (e instanceof OpError) throw new OpError(`${where}: ${e.message}`);
        throw e;
      }
      node.outputs.forEach((o, k) => {
        if (!types.has(o)) bump(cx, 'types-inferred');
        types.set(o, outs[k]!);
      });
      return typed;
    });
    return { ...g, nodes, types };
  },
};
