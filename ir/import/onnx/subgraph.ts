// Nested ONNX graphs (If's branches, Loop's and Scan's body) imported as kiln regions (ir/region.ts): each with a
// builder and a value table of its own, in which the enclosing graph's values are visible by name. Known ones
// (constants, symbolic shape values) stay known inside, so shape arithmetic in a body still folds at import; when
// a region reads one as data it is declared in the enclosing graph and read from there. Run-time values are read
// by their IR names. Temporaries avoid every name in scope, so a region never redefines a visible value.
import { GraphBuilder } from '../../builder.js';
import type { Graph } from '../../graph.js';
import type { TensorType } from '../../types.js';
import type { NodeContext } from './context.js';
import { invalid, unsupported } from './errors.js';
import { importNode } from './import.js';
import type { GraphProto, NodeProto } from './proto.js';
import { decodeSparse } from './sparse.js';
import { tensorFromProto } from './tensor-proto.js';
import { ValueTable } from './values.js';

/** The graphs a node holds in its attributes (If's branches, a body). */
export const subgraphsOf = (n: NodeProto): GraphProto[] =>
  n.attribute.flatMap((a) => [...(a.g ? [a.g as GraphProto] : []), ...(a.graphs as GraphProto[])]);

/** Every name a graph uses (inputs, outputs, initializers, node inputs and outputs), its subgraphs' included. */
export function protoNames(g: GraphProto, into = new Set<string>()): Set<string> {
  for (const v of [...g.input, ...g.output]) if (v.name) into.add(v.name);
  for (const t of g.initializer) if (t.name) into.add(t.name);
  for (const n of g.node) {
    for (const x of [...n.input, ...n.output]) if (x) into.add(x);
    for (const s of subgraphsOf(n)) protoNames(s, into);
  }
  return into;
}

/** What a node reads: its inputs and the enclosing-graph names its subgraphs read. */
export function protoReads(n: NodeProto): string[] {
  const reads = n.input.filter((i) => i !== '');
  for (const s of subgraphsOf(n)) reads.push(...protoFreeNames(s));
  return reads;
}

/** Names a graph reads but does not define: its references to the enclosing graphs. */
export function protoFreeNames(g: GraphProto): Set<string> {
  const defined = new Set<string>([...g.input.map((i) => i.name ?? ''), ...g.initializer.map((t) => t.name ?? ''), ...g.sparse_initializer.map((s) => s.values?.name ?? '')]);
  const free = new Set<string>();
  for (const n of g.node) {
    for (const v of protoReads(n)) if (!defined.has(v)) free.add(v);
    for (const o of n.output) if (o) defined.add(o);
  }
  for (const o of g.output) if (o.name && !defined.has(o.name)) free.add(o.name);
  return free;
}

/** Whether `name` is defined in `t` or any table enclosing it. */
const inScope = (t: ValueTable, name: string): boolean => t.defined(name) || (t instanceof RegionValues && inScope(t.outer, name));

/** A region's values: its own, plus those of the enclosing graph it reads. */
class RegionValues extends ValueTable {
  /** Known values of the enclosing graph, declared there when read here as data. */
  private readonly borrowed = new Set<string>();
  private readonly outerIr = new Set<string>();

  constructor(
    builder: GraphBuilder,
    reserved: ReadonlySet<string>,
    readonly outer: ValueTable,
  ) {
    super(builder, reserved);
  }

  /** Make the enclosing graph's value `name` visible here (undefined ones are reported by the node reading them). */
  adopt(name: string): void {
    const o = this.outer;
    if (!o.defined(name)) return;
    const known = o.constOf(name);
    if (known) {
      this.setConst(name, known);
      this.borrowed.add(name);
    } else if (o.isSym(name)) this.setSym(name, o.symOf(name)!);
    else this.readOuter(o.resolve(name), o.typeOf(name), name);
  }

  private readOuter(ir: string, type: TensorType, name = ir): void {
    if (!this.outerIr.has(ir)) {
      this.builder.outerValue(ir, type);
      this.outerIr.add(ir);
      this.claim(ir);
    }
    if (name !== ir) this.alias(name, ir);
  }

  override materialize(name: string): string {
    const r = this.resolve(name);
    if (!this.borrowed.has(r)) return super.materialize(name);
    const ir = this.outer.materialize(r);
    this.readOuter(ir, this.outer.builder.typeOf(ir));
    return ir;
  }

  override tmp(base: string): string {
    for (;;) {
      const n = super.tmp(base);
      if (!inScope(this.outer, n)) return n;
    }
  }
}

/** The node for messages: `node 'loop' (Loop)`. */
export const nodeLabel = (cx: NodeContext): string => `node ${cx.node.name ? `'${cx.node.name}' ` : ''}(${cx.op})`;

/** The GraphProto in attribute `attr` of cx's node; one passing sequences or optionals is refused up front. */
export function graphAttr(cx: NodeContext, attr: string): GraphProto {
  const a = cx.attrs.raw(attr);
  if (!a?.g) return invalid(`${cx.op} needs its graph attribute '${attr}'`);
  const g = a.g as GraphProto;
  for (const [what, list] of [['input', g.input], ['output', g.output]] as const)
    for (const vi of list)
      if (vi.type && !vi.type.tensor_type)
        unsupported('type', `${cx.op}'s ${attr} has ${what} '${vi.name}' of ${Object.keys(vi.type)[0]?.replace('_type', '') ?? 'non-tensor'} type; kiln has tensors only`);
  return g;
}

/**
 * Import graph attribute `attr` of cx's node as a region named `attr` whose inputs have kiln types `inputTypes`
 * (what the node passes in, as kiln holds it: an int64 iteration number as i32, say).
 */
export function importRegion(cx: NodeContext, attr: string, inputTypes: readonly TensorType[]): Graph {
  const g = graphAttr(cx, attr);
  const label = nodeLabel(cx);
  if (g.input.length !== inputTypes.length) invalid(`the ${attr} of ${label} takes ${g.input.length} inputs; it must take ${inputTypes.length}`);
  const builder = new GraphBuilder(attr);
  const values = new RegionValues(builder, protoNames(g), cx.values);
  for (const v of protoFreeNames(g)) values.adopt(v);
  g.input.forEach((vi, k) => {
    const name = vi.name || invalid(`an input of the ${attr} of ${label} has no name`);
    builder.input(name, inputTypes[k]!);
    values.claim(name);
  });
  initializers(g, values, `the ${attr} of ${label}`);
  const used = new Set<string>([...g.output.map((o) => o.name ?? ''), ...g.node.flatMap(protoReads)]);
  for (const n of g.node) importNode(n, { opset: cx.opset, values, used, note: (m) => cx.note(m), within: `in the ${attr} of ${label}` });
  for (const vi of g.output) {
    const name = vi.name || invalid(`an output of the ${attr} of ${label} has no name`);
    if (!values.defined(name)) invalid(`the ${attr} of ${label} returns '${name}', which nothing in it or around it defines`);
    builder.output(values.materialize(name));
  }
  return builder.build();
}

/**
 * Import the nodes of graph `g` (a branch or body of cx's node, `what` in messages) straight into the node's own
 * graph: an If whose condition is known at import, a Loop unrolled at import. Returns the ONNX names of its outputs.
 */
export function inlineGraph(cx: NodeContext, g: GraphProto, what: string): string[] {
  const label = nodeLabel(cx);
  initializers(g, cx.values, `the ${what} of ${label}`);
  const used = new Set<string>([...g.output.map((o) => o.name ?? ''), ...g.node.flatMap(protoReads)]);
  for (const n of g.node) importNode(n, { opset: cx.opset, values: cx.values, used, note: (m) => cx.note(m), within: `in the ${what} of ${label}` });
  return g.output.map((vi) => vi.name || invalid(`an output of the ${what} of ${label} has no name`));
}

/** A copy of `g` with every name it defines (its subgraphs' included) suffixed: one more copy of a body to inline. */
export function renameDefined(g: GraphProto, suffix: string): GraphProto {
  const free = protoFreeNames(g);
  const defined = new Set([...protoNames(g)].filter((n) => !free.has(n)));
  const r = (x: string): string => (x && defined.has(x) ? `${x}${suffix}` : x);
  const copy = (h: GraphProto): GraphProto => ({
    ...h,
    input: h.input.map((v) => ({ ...v, name: r(v.name ?? '') })),
    output: h.output.map((v) => ({ ...v, name: r(v.name ?? '') })),
    initializer: h.initializer.map((t) => ({ ...t, name: r(t.name ?? '') })),
    sparse_initializer: h.sparse_initializer.map((sp) => ({ ...sp, ...(sp.values ? { values: { ...sp.values, name: r(sp.values.name ?? '') } } : {}) })),
    node: h.node.map((n) => ({
      ...n,
      input: n.input.map(r),
      output: n.output.map(r),
      attribute: n.attribute.map((a) => ({ ...a, ...(a.g ? { g: copy(a.g as GraphProto) } : {}), graphs: (a.graphs as GraphProto[]).map(copy) })),
    })),
  });
  return copy(g);
}

function initializers(g: GraphProto, values: ValueTable, where: string): void {
  for (const t of g.initializer) {
    const name = t.name || invalid(`an initializer of ${where} has no name`);
    if (values.defined(name)) invalid(`initializer '${name}' of ${where} is already defined around it`);
    values.setConst(name, tensorFromProto(t, `initializer '${name}' of ${where}`));
  }
  for (const sp of g.sparse_initializer) {
    const name = sp.values?.name || invalid(`a sparse initializer of ${where} has no name`);
    values.setConst(name, decodeSparse(sp, `sparse initializer '${name}' of ${where}`));
  }
}
