// verify(graph): structural checks (SSA, declarations, symbols, constant data) and per-op checks (attributes,
// arity, type inference against declared types). Every diagnostic names the node and, when the graph came
// from a .kir file, its file:line:col.
import { type Graph, type Node, type SourceLoc, describeNode, formatLoc } from './graph.js';
import { AttrReader, OpError, checkAttrs, lookupOp, inferTypes, outputCount } from './op.js';
import { formatShape, isStaticShape, shapesEqual } from './shape.js';
import { type TensorType, formatType, isPlainStorage, storageProblems, typeStorageProblems, typesEqual } from './types.js';

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
  const defined = new Map<string, TensorType | undefined>();
  const define = (name: string, type: TensorType | undefined, loc: SourceLoc | undefined, what: string): void => {
    if (name === '') diags.push({ message: `${what} has an empty name`, ...(loc ? { loc } : {}) });
    else if (defined.has(name)) diags.push({ message: `%${name} is defined more than once (again by ${what})`, ...(loc ? { loc } : {}) });
    defined.set(name, type);
  };

  for (const [name, b] of Object.entries(g.symbols))
    if (!Number.isInteger(b.min) || !Number.isInteger(b.max) || b.min < 0 || b.min > b.max)
      diags.push({ message: `symbol ${name} has invalid bounds ${b.min}..${b.max} (need integers 0 <= min <= max)` });

  const checkSymbols = (t: TensorType, where: string, loc?: SourceLoc): void => {
    for (const d of t.shape) {
      if (typeof d === 'string' && !(d in g.symbols))
        diags.push({ message: `${where}: symbol ${d} is not declared (add 'symbol ${d} in <min>..<max>')`, ...(loc ? { loc } : {}) });
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
    if (!isPlainStorage(c.type) && c.external) diags.push({ message: `constant %${c.name}: a checkpoint tensor is read as dense row-major; give it its layout and encoding in a pass, not in its declaration`, ...at });
    if (!c.value && !c.external && c.source === undefined) diags.push({ message: `constant %${c.name} has neither data nor a parameter source`, ...at });
  }

  for (const node of g.nodes) {
    const where = describeNode(node);
    const at = { node, ...(node.loc ? { loc: node.loc } : {}) };
    const report = (message: string): void => void diags.push({ message: `${where}: ${message}`, ...at });
    const inTypes: (TensorType | undefined)[] = [];
    let inputsTyped = true;
    for (const i of node.inputs) {
      if (i === '') {
        inTypes.push(undefined);
        continue;
      }
      if (!defined.has(i)) {
        report(`%${i} is used before it is defined`);
        inputsTyped = false;
        continue;
      }
      const t = defined.get(i);
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

  if (g.outputs.length === 0) diags.push({ message: `graph @${g.name} returns nothing` });
  for (const o of g.outputs) if (!defined.has(o)) diags.push({ message: `graph @${g.name} returns %${o}, which is not defined` });
  return diags;
}
