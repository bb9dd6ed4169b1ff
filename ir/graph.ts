// The graph IR: SSA values named by strings, nodes in topological order, typed values. Graphs are immutable
// plain data; passes build new ones (see withNodes / GraphBuilder) rather than mutating.
import type { SymbolBound } from './shape.js';
import type { ExternalData } from './external.js';
import type { Tensor } from './tensor.js';
import type { TensorType } from './types.js';

/** Mixed number/string lists are 'dims' attributes (shape-like lists with symbolic entries). */
export type AttrValue = number | string | boolean | readonly number[] | readonly string[] | readonly (number | string)[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Where a node or declaration came from in a .kir file (not part of the graph's meaning, never printed). */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Node {
  readonly op: string;
  /** Value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
  readonly loc?: SourceLoc;
  /**
   * Nested graphs (If's branches, Loop's and Scan's body; see region.ts). Their nodes and outputs may read values
   * of the enclosing graphs by name; they never redefine a name visible there.
   */
  readonly regions?: readonly Graph[];
}

export interface ValueDecl {
  readonly name: string;
  readonly type: TensorType;
  readonly loc?: SourceLoc;
}

/**
 * A constant: inline data (`value`), or a parameter bound by name to external weights (`source`, e.g. a
 * safetensors tensor name) whose data arrives at compile time, either loaded (`value`) or left in its file
 * (`external`, read only when packed or interpreted).
 */
export interface ConstantDecl extends ValueDecl {
  readonly value?: Tensor;
  readonly source?: string;
  readonly external?: ExternalData;
}

export interface Graph {
  readonly name: string;
  readonly symbols: Readonly<Record<string, SymbolBound>>;
  readonly inputs: readonly ValueDecl[];
  readonly constants: readonly ConstantDecl[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly string[];
  /** Types of every value whose type is known: inputs, constants, and annotated or inferred node outputs. */
  readonly types: ReadonlyMap<string, TensorType>;
}

/** A short, stable description of a node for diagnostics: `%y = Relu(%x)`. */
export function describeNode(n: Node): string {
  const outs = n.outputs.map((o) => `%${o}`).join(', ');
  const ins = n.inputs.map((i) => (i === '' ? '_' : `%${i}`)).join(', ');
  return `${outs} = ${n.op}(${ins})`;
}

export function formatLoc(loc: SourceLoc | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}: ` : '';
}

/** Map from value name to the node that produces it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) m.set(o, n);
  return m;
}

/** Map from value name to the nodes that read it. */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes)
    for (const i of n.inputs) {
      if (i === '') continue;
      const list = m.get(i);
      if (list) list.push(n);
      else m.set(i, [n]);
    }
  return m;
}

/** A copy of g with some fields replaced; types are pruned to values that still exist. */
export function updateGraph(g: Graph, patch: Partial<Graph>): Graph {
  const next: Graph = { ...g, ...patch };
  const live = new Set<string>([
    ...next.inputs.map((i) => i.name),
    ...next.constants.map((c) => c.name),
    ...next.nodes.flatMap((n) => n.outputs),
  ]);
  const types = new Map<string, TensorType>();
  for (const [k, v] of next.types) if (live.has(k)) types.set(k, v);
  return { ...next, types };
}
