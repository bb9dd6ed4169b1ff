// Region ops left after the passes, lowered to the plan. An If whose condition is known only at run time becomes a
// branch of the dispatch list (runtime/plan.ts Branch): both branches are scheduled, one after the other, and the
// runtime reads the condition back when it gets there and runs only the taken range. A Loop or Scan left (trip count
// known only at run time, or beyond the control-flow pass's unroll bound) is refused: it would need a read-back per
// iteration, which kiln does not compile.
//
// Flattening puts each branch's nodes inline (renamed apart, constants hoisted) and ends each with a same-dtype Cast
// into the If's outputs, so both write the same memory. The result is not SSA (two writers per If output), which
// scheduling and memory planning, working by name, accept as long as nothing fuses across the branch boundary: the
// If outputs and conditions are listed as extra graph outputs, which elementwise and epilogue fusion never absorb,
// and which memory planning keeps alive to the end (the condition must still be there when it is read back).
import { type ConstantDecl, type Graph, type Node, type TensorType, allNames, describeNode, formatLoc, freshNames, hasRegions, renameReads } from '../../ir/index.js';
import type { Branch, Region } from '../../runtime/plan.js';
import { LoweringError } from './lowering.js';
import type { ScheduledStep } from './schedule.js';

/** One run-time If, flattened: its condition and the flat nodes of each branch (nested branches' included). */
export interface FlatBranch {
  readonly condition: string;
  readonly then: ReadonlySet<Node>;
  readonly else: ReadonlySet<Node>;
}

export interface FlatGraph {
  /** What to schedule: no regions; If outputs written by both branches; conditions and If outputs also outputs. */
  readonly graph: Graph;
  /** The entry's real outputs. */
  readonly outputs: readonly string[];
  /** Enclosing branches before the ones nested in them. */
  readonly branches: readonly FlatBranch[];
}

/** g with its run-time Ifs flattened into branch ranges; g itself when it has none. Throws on other region ops. */
export function flattenControlFlow(g: Graph): FlatGraph {
  if (!g.nodes.some(hasRegions)) return { graph: g, outputs: g.outputs, branches: [] };
  const fresh = freshNames(allNames(g));
  const nodes: Node[] = [];
  const constants: ConstantDecl[] = [...g.constants];
  const types = new Map(g.types);
  const extra: string[] = [];
  const branches: FlatBranch[] = [];
  const open: Set<Node>[] = []; // the branch sides being flattened, outermost first
  const emit = (n: Node): void => {
    nodes.push(n);
    for (const side of open) side.add(n);
  };
  const walk = (list: readonly Node[], read: (v: string) => string): void => {
    for (const original of list) {
      const n = renameReads(original, read);
      if (!hasRegions(n)) {
        emit(n);
        continue;
      }
      if (n.op !== 'If')
        throw new LoweringError(
          `${formatLoc(n.loc)}${describeNode(n)}: a ${n.op} whose trip count is known only at run time (or that exceeds the unroll bound of the control-flow pass) cannot be compiled yet; make its trip count a compile-time constant`,
        );
      const branch: FlatBranch = { condition: n.inputs[0]!, then: new Set(), else: new Set() };
      branches.push(branch);
      extra.push(branch.condition, ...n.outputs);
      [branch.then, branch.else].forEach((side, k) => {
        open.push(side as Set<Node>);
        const region = n.regions![k]!;
        const names = new Map<string, string>();
        const inner = (v: string): string => names.get(v) ?? read(v);
        for (const c of region.constants) {
          names.set(c.name, fresh(c.name));
          constants.push({ ...c, name: names.get(c.name)! });
          types.set(names.get(c.name)!, c.type);
        }
        // Values the branch defines get fresh names (two branches, or a loop's copies, may use the same ones).
        const renamed = region.nodes.map((m) => {
          const outputs = m.outputs.map((o) => {
            names.set(o, fresh(o));
            const t = region.types.get(o);
            if (t) types.set(names.get(o)!, t);
            return names.get(o)!;
          });
          return { ...m, outputs, inputs: m.inputs };
        });
        walk(renamed, inner);
        region.outputs.forEach((o, j) => emit({ op: 'Cast', inputs: [inner(o)], outputs: [n.outputs[j]!], attrs: { to: (types.get(n.outputs[j]!) as TensorType).dtype } }));
        open.pop();
      });
    }
  };
  walk(g.nodes, (v) => v);
  return { graph: { ...g, nodes, constants, types, outputs: [...g.outputs, ...new Set(extra)] }, outputs: g.outputs, branches };
}

/**
 * The plan's branches: each FlatBranch as the dispatch ranges its sides were scheduled to (then directly followed
 * by else) and the region holding its condition. Branches with no dispatches on either side are left out.
 */
export function planBranches(flat: FlatGraph, steps: readonly ScheduledStep[], regionOf: (value: string) => Region | undefined): Branch[] {
  const out: Branch[] = [];
  for (const b of flat.branches) {
    const range = (side: ReadonlySet<Node>): number[] => steps.flatMap((s, i) => (side.has(s.node) ? [i] : []));
    const then = range(b.then);
    const els = range(b.else);
    if (!then.length && !els.length) continue;
    const start = then[0] ?? els[0]!;
    const mid = start + then.length;
    const end = mid + els.length;
    const contiguous = then.every((i, k) => i === start + k) && els.every((i, k) => i === mid + k);
    const condition = regionOf(b.condition);
    if (!contiguous || !condition) throw new Error(`the branch on %${b.condition} was not scheduled as two adjacent ranges (a kiln bug, please report)`);
    out.push({ condition, then: start, else: mid, end });
  }
  return out;
}
