// verify(graph): structural checks (SSA, declarations, symbols, constant data) and per-op checks (attributes,
// arity, type inference against declared types). Every diagnostic names the node and, when the graph came
// from a .kir file, its file:line:col.
import { dimSymbols } from './dim.js';
import { type Graph, type Node, type SourceLoc, describeNode, formatLoc } from './graph.js';
import { AttrReader, OpError, checkAttrs, lookupOp, inferTypes, outputCount } from './op.js';
import { formatShape, isStaticShape, shapesEqual } from './shape.js';
import { type TensorType, formatType, isPlainStorage, storageProblems, tensorType, typeStorageProblems, typesEqual } from './types.js';
import { type ValueLookup, hasRegions, knownConstants, lookupRegionOp } from './region.js';

export interface Diagnostic {
  readonly message: string;
  readonly loc?: SourceLoc;
  /** The node the problem is about, already described in `message`. */
  readonly node?: Node;
}

export class VerifyError extends Error {
  override name = 'VerifyError';
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    context?: string,
  ) {
    super(`${context ? `${context}: ` : ''}${diagnostics.map(formatDiagnostic).join('\n')}`);
  }
}

export const formatDiagnostic = (d: Diagnostic): string => `${formatLoc(d.loc)}error: ${d.message}`;

/** Throw a VerifyError listing every problem, or return g unchanged. */
export function assertValid(g: Graph, context?: string): Graph {
  const diags = verify(g);
  if (diags.length) throw new VerifyError(diags, context);
  return g;
}

export function verify(g: Graph): Diagnostic[] {
  const diags: Diagnostic[] = [];
  verifyScope(g, { symbols: g.symbols, outer: new Map(), known: () => undefined }, diags);
  return diags;
}

/** What a graph sees of the graphs enclosing it (none at the top level; a region sees its node's surroundings). */
interface Scope {
  readonly symbols: Graph['symbols'];
  /** Values visible from the enclosing graphs, with their types when known. */
  readonly outer: Pick<ReadonlyMap<string, TensorType | undefined>, 'has' | 'get'>;
  readonly known: ValueLookup;
  /** Set for a region: `region @body: `, prefixed to graph-level messages. */
  readonly region?: string;
}

/** Check g in `scope`, appending to diags; returns the values g defines with their types. */
function verifyScope(g: Graph, scope: Scope, diags: Diagnostic[]): Map<string, TensorType | undefined> {
  const defined = new Map<string, TensorType | undefined>();
  const define = (name: string, type: TensorType | undefined, loc: SourceLoc | undefined, what: string): void => {
    if (name === '') diags.push({ message: `${what} has an empty name`, ...(loc ? { loc } : {}) });
    else if (defined.has(name)) diags.push({ message: `%${name} is defined more than once (again by ${what})`, ...(loc ? { loc } : {}) });
    else if (scope.outer.has(name)) diags.push({ message: `${scope.region ?? ''}%${name} is defined by ${what} but is already a value of the enclosing graph (regions may read it, not redefine it)`, ...(loc ? { loc } : {}) });
    defined.set(name, type);
  };
  const visible = (name: string): boolean => defined.has(name) || scope.outer.has(name);
  const typeOf = (name: string): TensorType | undefined => (defined.has(name) ? defined.get(name) : scope.outer.get(name));
  let knownHere: ValueLookup | undefined; // constants' values, for region ops' rules (made on first need)

  if (scope.region && Object.keys(g.symbols).length) diags.push({ message: `${scope.region}symbols are declared at the top level of a graph, not in a region` });
  for (const [name, b] of Object.entries(g.symbols))
    if (!Number.isInteger(b.min) || !Number.isInteger(b.max) || b.min < 0 || b.min > b.max)
      diags.push({ message: `symbol ${name} has invalid bounds ${b.min}..${b.max} (need integers 0 <= min <= max)` });

  const checkSymbols = (t: TensorType, where: string, loc?: SourceLoc): void => {
    for (const d of t.shape) {
      // An expression dim (2*seq+1) needs each symbol it mentions declared.
      for (const sym of dimSymbols(d))
        if (!(sym in scope.symbols))
          diags.push({ message: `${where}: symbol ${sym} is not declared (add 'symbol ${sym} in <min>..<max>')`, ...(loc ? { loc } : {}) });
      if (typeof d === 'number' && (!Number.isInteger(d) || d < 0))
        diags.push({ message: `${where}: invalid dimension ${d} in ${formatType(t)}`, ...(loc ? { loc } : {}) });
    }
  };

  for (const i of g.inputs) {
    define(i.name, i.type, i.loc, `input %${i.name}`);
    checkSymbols(i.type, `input %${i.name}`, i.loc);
  }
  const constantTypes = new Map(g.constants.map((c) => [c.name, c.type]));
  const constantType = (name: string): TensorType | undefined => constantTypes.get(name);
  for (const i of g.inputs)
    if (!isPlainStorage(i.type))
      diags.push({ message: `input %${i.name}: only constants carry a layout or encoding (got ${formatType(i.type)}); inputs arrive dense and row-major`, ...(i.loc ? { loc: i.loc } : {}) });
  for (const c of g.constants) {
    define(c.name, c.type, c.loc, `constant %${c.name}`);
    const at = c.loc ? { loc: c.loc } : {};
    if (!isStaticShape(c.type.shape)) diags.push({ message: `constant %${c.name} must have a static shape, got ${formatType(c.type)}`, ...at });
    const storage = isStaticShape(c.type.shape) ? typeStorageProblems(c.type, constantType) : [];
    for (const p of storage) diags.push({ message: `constant %${c.name}: ${p}`, ...at });
    if (c.value && !storage.length) {
      if (isPlainStorage(c.type)) {
        if (c.value.dtype !== c.type.dtype || !shapesEqual(c.value.shape, c.type.shape))
          diags.push({ message: `constant %${c.name}: data is ${c.value.dtype}${formatShape(c.value.shape)} but declared ${formatType(c.type)}`, ...at });
      } else for (const p of storageProblems(c.type, c.value)) diags.push({ message: `constant %${c.name}: ${p}`, ...at });
    }
    // A checkpoint file holds its tensor dense and row-major; a layout on it is applied when the artifact is packed
    // (compiler/memory/storage-decls.ts), an encoding is not (sparsify and friends load such tensors inline first).
    if (c.type.encoding.kind !== 'dense' && c.external) diags.push({ message: `constant %${c.name}: a checkpoint tensor is read dense; give it its encoding in a pass, not in its declaration`, ...at });
    if (!c.value && !c.external && c.source === undefined) diags.push({ message: `constant %${c.name} has neither data nor a parameter source`, ...at });
  }

  for (const node of g.nodes) {
    const where = `${scope.region ?? ''}${describeNode(node)}`;
    const at = { node, ...(node.loc ? { loc: node.loc } : {}) };
    const report = (message: string): void => void diags.push({ message: `${where}: ${message}`, ...at });
    const inTypes: (TensorType | undefined)[] = [];
    let inputsTyped = true;
    for (const i of node.inputs) {
      if (i === '') {
        inTypes.push(undefined);
        continue;
      }
      if (!visible(i)) {
        report(`%${i} is used before it is defined`);
        inputsTyped = false;
        continue;
      }
      const t = typeOf(i);
      if (!t) inputsTyped = false;
      inTypes.push(t);
    }
    const def = lookupOp(node.op);
    let inferred: TensorType[] | undefined;
    if (!def) report(`unknown op '${node.op}'`);
    else {
      const problems = checkAttrs(def, node.attrs);
      problems.forEach(report);
      const n = node.inputs.length;
      if (n < def.inputs.min || n > def.inputs.max)
        report(`${node.op} takes ${def.inputs.min === def.inputs.max ? def.inputs.min : `${def.inputs.min}..${def.inputs.max}`} inputs, got ${n}`);
      else if (problems.length === 0 && hasRegions(node)) {
        // The regions see what is defined so far (they are checked now, before anything after the node is defined).
        const outer = { has: visible, get: typeOf };
        knownHere ??= knownIn(g, scope);
        inferred = verifyRegionNode(node, inTypes, inputsTyped, { ...scope, outer, known: knownHere }, diags, report);
      }
      else if (problems.length === 0) {
        const attrs = new AttrReader(node.op, def.attrs, node.attrs);
        try {
          const count = outputCount(def, attrs, n);
          if (count !== node.outputs.length) report(`${node.op} produces ${count} outputs, ${node.outputs.length} named`);
          else if (inputsTyped) inferred = inferTypes(def, inTypes, attrs);
        } catch (e) {
          if (!(e instanceof OpError)) throw e;
          report(e.message);
        }
      }
    }
    node.outputs.forEach((o, k) => {
      const declared = g.types.get(o);
      const got = inferred?.[k];
      if (declared && !isPlainStorage(declared))
        report(`%${o} is declared ${formatType(declared)}, but only constants carry a layout or encoding: ${node.op} computes a dense row-major value`);
      if (declared && got && !typesEqual(declared, got)) report(`%${o} is declared ${formatType(declared)} but ${node.op} gives ${formatType(got)}`);
      const t = declared ?? got;
      if (t) checkSymbols(t, where, node.loc);
      define(o, t, node.loc, where);
    });
  }

  if (g.outputs.length === 0 && !scope.region) diags.push({ message: `graph @${g.name} returns nothing` });
  for (const o of g.outputs) if (!visible(o)) diags.push({ message: `${scope.region ?? ''}graph @${g.name} returns %${o}, which is not defined` });
  return defined;
}

// ### Region nodes (If, Loop, Scan): each region is checked as a graph that sees the values defined before the node,
// then the op's rule types the node from the regions' results.

/** Plain constants with data visible in g (its own and the enclosing graphs'), for rules that read values. */
function knownIn(g: Graph, scope: Scope): ValueLookup {
  const own = knownConstants(g);
  return (v) => own.get(v) ?? scope.known(v);
}

function verifyRegionNode(
  node: Node,
  inTypes: readonly (TensorType | undefined)[],
  inputsTyped: boolean,
  scope: Scope,
  diags: Diagnostic[],
  report: (message: string) => void,
): TensorType[] | undefined {
  const def = lookupRegionOp(node.op);
  if (!def) return void report(`${node.op} takes no regions`);
  const regions = node.regions ?? [];
  const names = regions.map((r) => `@${r.name}`).join(', ') || 'none';
  if (regions.length !== def.regions.length || regions.some((r, k) => r.name !== def.regions[k]))
    return void report(`${node.op} holds regions ${def.regions.map((r) => `@${r}`).join(', ')} in that order, got ${names}`);
  const before = diags.length;
  const results = regions.map((r) => {
    const own = verifyScope(r, { ...scope, region: `region @${r.name}: ` }, diags);
    return r.outputs.map((o) => (own.has(o) ? own.get(o) : scope.outer.get(o)));
  });
  if (diags.length > before || !inputsTyped || results.some((ts) => ts.some((t) => !t))) return undefined;
  const attrs = new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);
  try {
    const logical = inTypes.map((t) => t && (isPlainStorage(t) ? t : tensorType(t.dtype, t.shape)));
    const types = def.infer({ inputs: logical, attrs, regions, results: results as TensorType[][], inputNames: node.inputs, known: scope.known });
    if (types.length !== node.outputs.length) return void report(`${node.op} produces ${types.length} results, ${node.outputs.length} named`);
    return types;
  } catch (e) {
    if (!(e instanceof OpError)) throw e;
    return void report(e.message);
  }
}
