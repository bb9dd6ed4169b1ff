// Regions: the nested graphs of If (then_branch, else_branch), Loop and Scan (body). A region is a Graph with its
// own inputs (Loop's iteration number, condition and carried values; Scan's states and slices), constants, nodes
// and outputs. Its nodes and outputs may also read values of the enclosing graphs by name (outer references),
// but a region never redefines a name visible where it sits, so inlining one is renaming, never re-scoping.
//
// Region ops are in the op registry like every op (name, arity, attribute schema) and here, with the rules that
// need the regions: result types from the regions' types, and reference semantics that run a region.
import { type Graph, type Node, describeNode, formatLoc } from './graph.js';
import { AttrReader, OpError, inferTypes, lookupOp } from './op.js';
import type { Tensor } from './tensor.js';
import { type TensorType, isPlainStorage, tensorType } from './types.js';

export type TypeLookup = (name: string) => TensorType | undefined;
export type ValueLookup = (name: string) => Tensor | undefined;

export interface RegionInferContext {
  /** The node's input types (undefined for an omitted optional input). */
  readonly inputs: readonly (TensorType | undefined)[];
  readonly attrs: AttrReader;
  /** The regions, every node result typed. */
  readonly regions: readonly Graph[];
  /** Per region, the types of its outputs (outer references resolved). */
  readonly results: readonly (readonly TensorType[])[];
  /** The node's input names ('' when omitted). */
  readonly inputNames: readonly string[];
  /** A value visible at the node (a constant of this or an enclosing graph) when known at compile time. */
  readonly known: ValueLookup;
}

export interface RegionOpDef {
  readonly name: string;
  /** The names its regions have, in order (ONNX's attribute names). */
  readonly regions: readonly string[];
  /** Result types, or an OpError saying what is wrong. */
  infer(cx: RegionInferContext): TensorType[];
  /**
   * Reference semantics; `run(k, args)` evaluates region k on `args` (its inputs, in order) and returns its
   * outputs; `typed(k)` is region k with every value typed (what a loop that runs no iteration shapes its
   * empty scan outputs by).
   */
  reference(
    inputs: readonly (Tensor | undefined)[],
    attrs: AttrReader,
    regions: readonly Graph[],
    run: (region: number, args: readonly Tensor[]) => Tensor[],
    typed: (region: number) => Graph,
  ): Tensor[];
}

const registry = new Map<string, RegionOpDef>();

export function registerRegionOp(def: RegionOpDef): RegionOpDef {
  if (registry.has(def.name)) throw new Error(`region op ${def.name} registered twice`);
  registry.set(def.name, def);
  return def;
}

export const lookupRegionOp = (name: string): RegionOpDef | undefined => registry.get(name);

/** Whether the node holds regions or is an op that must (If, Loop, Scan): its types and semantics come from here. */
export const hasRegions = (n: Node): boolean => n.regions !== undefined || registry.has(n.op);

/** Names a region reads but does not define: its references to the enclosing graphs (nested regions' included). */
export function freeNames(region: Graph): Set<string> {
  const defined = new Set([...region.inputs.map((i) => i.name), ...region.constants.map((c) => c.name)]);
  const free = new Set<string>();
  for (const n of region.nodes) {
    for (const v of nodeReads(n)) if (!defined.has(v)) free.add(v);
    for (const o of n.outputs) defined.add(o);
  }
  for (const o of region.outputs) if (!defined.has(o)) free.add(o);
  return free;
}

/** The names a node reads: its inputs and its regions' outer references. */
export function nodeReads(n: Node): string[] {
  const reads = n.inputs.filter((v) => v !== '');
  for (const r of n.regions ?? []) reads.push(...freeNames(r));
  return reads;
}

/** Every name a graph defines, its regions' included (fresh names for inlined values avoid them all). */
export function allNames(g: Graph, into = new Set<string>()): Set<string> {
  for (const i of g.inputs) into.add(i.name);
  for (const c of g.constants) into.add(c.name);
  for (const n of g.nodes) {
    for (const o of n.outputs) into.add(o);
    for (const r of n.regions ?? []) allNames(r, into);
  }
  return into;
}

/** A fresh-name source: `base`, or `base_1`, `base_2`, ... whichever is not in `taken` (which it extends). */
export function freshNames(taken: Set<string>): (base: string) => string {
  return (base) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
}

/** The node reading every outer name through `rename` (its inputs and its regions' outer references); itself when none changes. */
export function renameReads(n: Node, rename: (v: string) => string): Node {
  const inputs = n.inputs.map((v) => (v === '' ? v : rename(v)));
  const regions = n.regions?.map((r) => renameRegionReads(r, rename));
  if (inputs.every((v, i) => v === n.inputs[i]) && (regions ?? []).every((r, k) => r === n.regions![k])) return n;
  return { ...n, inputs, ...(regions ? { regions } : {}) };
}

/** A region reading every outer name through `rename` (the names it defines stay); itself when none changes. */
export function renameRegionReads(r: Graph, rename: (v: string) => string): Graph {
  // No shadowing: a name the region defines is never an outer name, so only the others are renamed.
  const own = new Set([...r.inputs.map((i) => i.name), ...r.constants.map((c) => c.name), ...r.nodes.flatMap((n) => n.outputs)]);
  const inner = (v: string): string => (own.has(v) ? v : rename(v));
  const nodes = r.nodes.map((n) => renameReads(n, inner));
  const outputs = r.outputs.map(inner);
  if (nodes.every((n, i) => n === r.nodes[i]) && outputs.every((o, i) => o === r.outputs[i])) return r;
  return { ...r, nodes, outputs };
}

/** Plain constants with data, by name: what type rules may read (a Loop's trip count). */
export function knownConstants(g: Graph): Map<string, Tensor> {
  return new Map(g.constants.flatMap((c) => (c.value && isPlainStorage(c.type) ? [[c.name, c.value] as const] : [])));
}

function checkRegionNames(def: RegionOpDef, regions: readonly Graph[]): void {
  const got = regions.map((r) => `@${r.name}`).join(', ') || 'none';
  if (regions.length !== def.regions.length || regions.some((r, k) => r.name !== def.regions[k]))
    throw new OpError(`${def.name} holds regions ${def.regions.map((r) => `@${r}`).join(', ')} in that order, got ${got}`);
}

/**
 * A node's result types: its op's inference, or for a region op, its regions typed first (node results inferred
 * with the enclosing values visible through `outer`) and then the op's rule. Returns the node with typed regions.
 */
export function inferNode(node: Node, ins: readonly (TensorType | undefined)[], outer: TypeLookup, known: ValueLookup): { types: TensorType[]; node: Node } {
  const def = lookupOp(node.op);
  if (!def) throw new OpError(`unknown op '${node.op}'`);
  if (!hasRegions(node)) return { types: inferTypes(def, ins, new AttrReader(node.op, def.attrs, node.attrs)), node };
  const { types, regions } = inferRegionNode(node, ins, outer, known);
  if (types.length !== node.outputs.length) throw new OpError(`${node.op} produces ${types.length} results, ${node.outputs.length} named`);
  return { types, node: { ...node, regions } };
}

/** A region op's result types (as many as its regions make) and its regions, typed. */
export function inferRegionNode(node: Node, ins: readonly (TensorType | undefined)[], outer: TypeLookup, known: ValueLookup): { types: TensorType[]; regions: Graph[] } {
  const def = lookupOp(node.op);
  const rdef = lookupRegionOp(node.op);
  if (!def || !rdef) throw new OpError(def ? `${node.op} takes no regions` : `unknown op '${node.op}'`);
  const { min, max } = def.inputs;
  if (ins.length < min || ins.length > max)
    throw new OpError(`${node.op} takes ${max === Infinity ? `at least ${min}` : min === max ? min : `${min}..${max}`} input${max === 1 ? '' : 's'}, got ${ins.length}`);
  checkRegionNames(rdef, node.regions ?? []);
  const regions = (node.regions ?? []).map((r) => typeRegion(r, outer, known));
  const results = regions.map((r) =>
    r.outputs.map((o) => {
      const t = r.types.get(o) ?? outer(o);
      if (!t) throw new OpError(`region @${r.name} returns %${o}, which has no type`);
      return t;
    }),
  );
  // As for any op, inputs are seen as their logical (decoded) types.
  const logical = ins.map((t) => t && (isPlainStorage(t) ? t : tensorType(t.dtype, t.shape)));
  const attrs = new AttrReader(node.op, def.attrs, node.attrs);
  return { types: rdef.infer({ inputs: logical, attrs, regions, results, inputNames: node.inputs, known }), regions };
}

/** A region with every node result typed, the enclosing graphs' values visible through `outer` and `known`. */
export function typeRegion(region: Graph, outer: TypeLookup, known: ValueLookup): Graph {
  const types = new Map(region.types);
  const lookup: TypeLookup = (v) => types.get(v) ?? outer(v);
  const own = knownConstants(region);
  const knownHere: ValueLookup = (v) => own.get(v) ?? known(v);
  const nodes = region.nodes.map((n) => {
    const where = `region @${region.name}: ${formatLoc(n.loc)}${describeNode(n)}`;
    const ins = n.inputs.map((i) => {
      if (i === '') return undefined;
      const t = lookup(i);
      if (!t) throw new OpError(`${where}: %${i} has no type`);
      return t;
    });
    try {
      const r = inferNode(n, ins, lookup, knownHere);
      n.outputs.forEach((o, k) => types.set(o, r.types[k]!));
      return r.node;
    } catch (e) {
      if (e instanceof OpError && !e.message.startsWith('region @')) throw new OpError(`${where}: ${e.message}`);
      throw e;
    }
  });
  return { ...region, nodes, types };
}
