// fold-constants: evaluate, at compile time, every node whose inputs are all constants with data, replacing it by
// a constant of the same name. It uses the interpreter's own evaluateNode, so folding is bit-exact with running.
// Results much larger than their inputs (Expand, Tile, ConstantOfShape-like blow-ups) are not folded: that would
// trade a cheap kernel for megabytes of weights.
import { type ConstantDecl, type Node, type Tensor, evaluateNode, hasRegions, isPlainStorage, isStaticShape, lookupOp, tensorType, updateGraph } from '../ir/index.js';
import { EXACT, type Pass, bump } from './pass.js';

/** Outputs up to this many elements always fold; above it only when no larger than the inputs. */
const SMALL_RESULT = 4096;

function hasSymbolicAttrs(node: Node): boolean {
  const specs = lookupOp(node.op)?.attrs ?? {};
  return Object.entries(node.attrs).some(([k, v]) => specs[k]?.kind === 'dims' && Array.isArray(v) && v.some((d) => typeof d === 'string'));
}

export const foldConstants: Pass = {
  name: 'fold-constants',
  summary: 'Evaluate nodes whose inputs are all constants and replace them by constants.',
  tolerance: EXACT,
  run(g, cx) {
    const known = new Map<string, Tensor>();
    // Only plain constants: an encoded one holds its storage, and decoding it here would undo its compression.
    for (const c of g.constants) if (c.value && isPlainStorage(c.type)) known.set(c.name, c.value);
    const constants: ConstantDecl[] = [...g.constants];
    const nodes: Node[] = [];
    for (const node of g.nodes) {
      const ins = node.inputs.map((i) => (i === '' ? undefined : known.get(i)));
      // A region op is left to control-flow (its regions may read values beyond its inputs).
      // A node whose result depends on symbols (x[:, :seq] of a constant) is only known at run time.
      // So does one whose attributes hold symbols (DimValues{values=[batch]}: a static shape, a run-time value).
      const symbolic = node.outputs.some((o) => !isStaticShape(g.types.get(o)?.shape ?? [])) || hasSymbolicAttrs(node);
      const foldable = !hasRegions(node) && !symbolic && node.inputs.every((i, k) => i === '' || ins[k] !== undefined);
      if (!foldable) {
        nodes.push(node);
        continue;
      }
      const results = evaluateNode(node, ins);
      const inElements = ins.reduce((s, t) => s + (t ? t.data.length : 0), 0);
      if (results.some((r) => r.data.length > Math.max(SMALL_RESULT, inElements))) {
        bump(cx, 'too-large-to-fold');
        nodes.push(node);
        continue;
      }
      results.forEach((r, k) => {
        const name = node.outputs[k]!;
        known.set(name, r);
        constants.push({ name, type: tensorType(r.dtype, r.shape), value: r, ...(node.loc ? { loc: node.loc } : {}) });
      });
      bump(cx, 'nodes-folded');
    }
    if (nodes.length === g.nodes.length) return g;
    // A folded value keeps its name, so uses and graph outputs need no rewiring; its old type entry is replaced.
    const folded = updateGraph(g, { nodes, constants });
    const types = new Map(folded.types);
    for (const c of constants) types.set(c.name, c.type);
    return { ...folded, types };
  },
};
