// GraphBuilder: the one way code (importers, tests, passes) makes graphs. Each node's output types are inferred
// through the op registry as it is added, so a built graph is typed throughout and errors surface at the node
// that caused them.
import type { Attrs, ConstantDecl, Graph, Node, SourceLoc, ValueDecl } from './graph.js';
import { AttrReader, OpError, checkAttrs, lookupOp, inferTypes, outputCount } from './op.js';
import { inferRegionNode, lookupRegionOp } from './region.js';
import type { SymbolBound } from './shape.js';
import type { Tensor } from './tensor.js';
import { type TensorType, tensorType } from './types.js';

export interface NodeOptions {
  /** Output names; fresh names are generated when omitted. */
  readonly names?: readonly string[];
  readonly loc?: SourceLoc;
  /** The node's regions (If, Loop, Scan): passes that re-add nodes pass them through. */
  readonly regions?: readonly Graph[];
}

export class GraphBuilder {
  private readonly symbols: Record<string, SymbolBound> = {};
  private readonly inputs: ValueDecl[] = [];
  private readonly constants: ConstantDecl[] = [];
  private readonly nodes: Node[] = [];
  private outputs: string[] = [];
  private readonly types = new Map<string, TensorType>();
  /** Values of enclosing graphs this graph (a region) reads: typed here, defined there. */
  private readonly outer = new Set<string>();
  private nextId = 0;

  constructor(private readonly name = 'main') {}

  /** Start from an existing graph's declarations (inputs, constants, symbols) but no nodes. */
  static fromDeclarations(g: Graph): GraphBuilder {
    const b = new GraphBuilder(g.name);
    Object.assign(b.symbols, g.symbols);
    for (const i of g.inputs) b.input(i.name, i.type);
    for (const c of g.constants) b.declareConstant(c);
    return b;
  }

  typeOf(name: string): TensorType {
    const t = this.types.get(name);
    if (!t) throw new Error(`no value %${name}`);
    return t;
  }

  fresh(prefix = 'v'): string {
    let n: string;
    do n = `${prefix}${this.nextId++}`;
    while (this.types.has(n));
    return n;
  }

  symbol(name: string, min: number, max: number): this {
    this.symbols[name] = { min, max };
    return this;
  }

  input(name: string, type: TensorType): string {
    this.claim(name);
    this.inputs.push({ name, type });
    this.types.set(name, type);
    return name;
  }

  constant(tensor: Tensor, name = this.fresh('c')): string {
    return this.declareConstant({ name, type: tensorType(tensor.dtype, tensor.shape), value: tensor });
  }

  declareConstant(c: ConstantDecl): string {
    this.claim(c.name);
    this.constants.push(c);
    this.types.set(c.name, c.type);
    return c.name;
  }

  /** Add a node; returns its output names. Throws OpError (with the node described) if it does not type-check. */
  node(op: string, inputs: readonly string[], attrs: Attrs = {}, opts: NodeOptions = {}): string[] {
    if (opts.regions || lookupRegionOp(op)) return this.regionNode(op, inputs, attrs, opts.regions ?? [], opts);
    const def = lookupOp(op);
    if (!def) throw new OpError(`unknown op '${op}'`);
    const problems = checkAttrs(def, attrs);
    if (problems.length) throw new OpError(`${op}: ${problems.join('; ')}`);
    const reader = new AttrReader(op, def.attrs, attrs);
    const inTypes = inputs.map((i) => (i === '' ? undefined : this.typeOf(i)));
    const outTypes = inferTypes(def, inTypes, reader);
    const count = outputCount(def, reader, inputs.length);
    if (outTypes.length !== count) throw new Error(`${op}.infer returned ${outTypes.length} types, expected ${count}`);
    const names: readonly string[] = opts.names ?? outTypes.map(() => this.fresh());
    if (names.length !== count) throw new OpError(`${op} has ${count} outputs, ${names.length} names given`);
    names.forEach((n, k) => {
      this.claim(n);
      this.types.set(n, outTypes[k]!);
    });
    this.nodes.push({ op, inputs: [...inputs], outputs: [...names], attrs: { ...attrs }, ...(opts.loc ? { loc: opts.loc } : {}) });
    return [...names];
  }

  /** Single-output convenience. */
  op(op: string, inputs: readonly string[], attrs: Attrs = {}, opts: NodeOptions = {}): string {
    const outs = this.node(op, inputs, attrs, opts);
    if (outs.length !== 1) throw new Error(`${op} has ${outs.length} outputs; use node()`);
    return outs[0]!;
  }

  output(...names: string[]): this {
    for (const n of names) this.typeOf(n);
    this.outputs.push(...names);
    return this;
  }

  // ### Regions (If, Loop, Scan): a region is built by a builder of its own that knows the enclosing values it reads.

  /** Make a value of an enclosing graph readable here (building a region): it is typed, not declared. */
  outerValue(name: string, type: TensorType): string {
    this.claim(name);
    this.outer.add(name);
    this.types.set(name, type);
    return name;
  }

  /** Add a node holding regions (built graphs); its result types come from them (ir/region.ts). */
  regionNode(op: string, inputs: readonly string[], attrs: Attrs, regions: readonly Graph[], opts: NodeOptions = {}): string[] {
    const def = lookupOp(op);
    if (!def) throw new OpError(`unknown op '${op}'`);
    const problems = checkAttrs(def, attrs);
    if (problems.length) throw new OpError(`${op}: ${problems.join('; ')}`);
    const known = new Map(this.constants.flatMap((c) => (c.value ? [[c.name, c.value] as const] : [])));
    const draft: Node = { op, inputs: [...inputs], outputs: [], attrs: { ...attrs }, regions: [...regions] };
    const inTypes = inputs.map((i) => (i === '' ? undefined : this.typeOf(i)));
    const typed = inferRegionNode(draft, inTypes, (v) => this.types.get(v), (v) => known.get(v));
    const types = typed.types;
    const names = opts.names ?? types.map(() => this.fresh());
    if (names.length !== types.length) throw new OpError(`${op} has ${types.length} outputs, ${names.length} names given`);
    names.forEach((n, k) => {
      this.claim(n);
      this.types.set(n, types[k]!);
    });
    this.nodes.push({ ...draft, outputs: [...names], regions: typed.regions, ...(opts.loc ? { loc: opts.loc } : {}) });
    return [...names];
  }

  build(): Graph {
    const types = new Map(this.types);
    for (const o of this.outer) types.delete(o);
    return {
      name: this.name,
      symbols: { ...this.symbols },
      inputs: [...this.inputs],
      constants: [...this.constants],
      nodes: [...this.nodes],
      outputs: [...this.outputs],
      types,
    };
  }

  private claim(name: string): void {
    if (this.types.has(name)) throw new Error(`value %${name} defined twice`);
  }
}
