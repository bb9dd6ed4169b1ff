// The .kir parser: ohm-js matches the grammar (kir-grammar.ts), one semantic operation turns the CST into a small
// positioned AST, and buildGraph checks what is purely structural (SSA definitions and uses, constant sizes,
// dtypes, symbols) before assembling the Graph. It knows no ops: an unknown op or a wrong attribute is the
// verifier's business. Every problem is a KirSyntaxError whose message starts with `file:line:col: `.
import * as ohm from 'ohm-js';
import { canonicalDim } from './dim.js';
import { isDType } from './dtype.js';
import type { Attrs, AttrValue, ConstantDecl, Graph, Node, SourceLoc, ValueDecl } from './graph.js';
import { KIR_GRAMMAR_SOURCE } from './kir-grammar.js';
import { type Dim, type SymbolBound, isStaticShape, numel } from './shape.js';
import { makeTensor } from './tensor.js';
import { DENSE, type Descriptor, DescriptorError, type Encoding, type Layout, type ParamValue, ROW_MAJOR, type TensorType, encodingOf, layoutOf, layoutProblems, storageTypeOf, tensorType } from './types.js';

export class KirSyntaxError extends Error {
  override name = 'KirSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    /** The message without the location prefix and excerpt. */
    readonly reason: string,
    excerpt = '',
  ) {
    super(`${file}:${line}:${col}: ${reason}${excerpt}`);
  }
}

// ### The AST (offsets into the text; turned into line:col only when needed)

interface Ref {
  readonly name: string;
  readonly at: number;
}
interface TypeAst {
  readonly at: number;
  readonly dtype: string;
  readonly shape: Dim[];
  readonly extras: readonly { key: string; at: number; desc: DescriptorAst }[];
}
interface DescriptorAst {
  readonly kind: string;
  readonly at: number;
  readonly params: readonly { key: string; at: number; value: ParamValue }[];
}
interface AttrAst {
  readonly key: string;
  readonly at: number;
  readonly value: AttrValue;
}
type Stmt =
  | { kind: 'symbol'; at: number; name: string; min: number; max: number }
  | { kind: 'const'; at: number; ref: Ref; type: TypeAst; values: number[]; valuesAt: number }
  | { kind: 'param'; at: number; ref: Ref; type: TypeAst; source: string | undefined }
  | { kind: 'node'; at: number; outs: Ref[]; op: string; inputs: (Ref | null)[]; attrs: AttrAst[]; types: TypeAst[] | undefined; typesAt: number; regions: GraphAst[] };
interface GraphAst {
  readonly at: number;
  readonly name: string;
  readonly inputs: readonly { ref: Ref; type: TypeAst }[];
  readonly stmts: readonly Stmt[];
  readonly ret: readonly Ref[];
}

// ### CST → AST

const grammar = ohm.grammar(KIR_GRAMMAR_SOURCE);

const v = (n: ohm.Node): any => n['ast']();
const list = (n: ohm.Node): any[] => n.asIteration().children.map(v);
const opt = (n: ohm.Node): any => (n.numChildren ? v(n.child(0)) : undefined);

function parseNumber(text: string): number {
  if (text === 'nan') return NaN;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

const semantics = grammar.createSemantics().addOperation<unknown>('ast', {
  Graph(_g, name, _lp, inputs, _rp, _lb, stmts, ret, _rb, _end): GraphAst {
    return { at: this.source.startIdx, name: v(name), inputs: list(inputs), stmts: stmts.children.map(v), ret: v(ret) };
  },
  Region(_r, name, _lp, inputs, _rp, _lb, stmts, ret, _rb): GraphAst {
    return { at: this.source.startIdx, name: v(name), inputs: list(inputs), stmts: stmts.children.map(v), ret: v(ret) };
  },
  InputDecl: (ref, _c, type) => ({ ref: v(ref), type: v(type) }),
  SymbolDecl(_s, name, _in, min, _dots, max) {
    return { kind: 'symbol', at: this.source.startIdx, name: name.sourceString, min: Number(min.sourceString), max: Number(max.sourceString) };
  },
  ConstDecl(_k, ref, _c, type, _eq, values) {
    return { kind: 'const', at: this.source.startIdx, ref: v(ref), type: v(type), values: v(values), valuesAt: values.source.startIdx };
  },
  ParamDecl(_k, ref, _c, type, source) {
    return { kind: 'param', at: this.source.startIdx, ref: v(ref), type: v(type), source: opt(source) };
  },
  ParamSource: (_eq, s) => v(s),
  ConstData: (x) => v(x),
  NodeStmt(outs, _eq, op, _lp, inputs, _rp, attrs, types, regions) {
    return {
      kind: 'node',
      at: this.source.startIdx,
      outs: list(outs),
      op: op.sourceString,
      inputs: list(inputs),
      attrs: opt(attrs) ?? [],
      types: opt(types),
      typesAt: types.source.startIdx,
      regions: regions.children.map(v),
    };
  },
  Operand: (x) => v(x),
  omitted: (_u) => null,
  Attrs: (_l, attrs, _r) => list(attrs),
  Attr: (key, _eq, value) => ({ key: v(key), at: key.source.startIdx, value: v(value) }),
  attrKey: (k) => (k.ctorName === 'string' ? v(k) : k.sourceString),
  AttrValue: (x) => v(x),
  OutTypes: (_c, types) => list(types),
  Return: (_r, refs) => list(refs),
  Type(dtype, _l, dims, _r, _brace, extras) {
    return { at: this.source.startIdx, dtype: dtype.sourceString, shape: list(dims), extras: opt(extras) ?? [] };
  },
  TypeExtras: (_l, extras, _r) => list(extras),
  TypeExtra: (key, _eq, desc) => ({ key: key.sourceString, at: key.source.startIdx, desc: v(desc) }),
  Descriptor(kind, params): DescriptorAst {
    return { kind: kind.sourceString, at: this.source.startIdx, params: opt(params) ?? [] };
  },
  DescriptorParams: (_l, params, _r) => list(params),
  DescriptorParam: (key, _eq, value) => ({ key: key.sourceString, at: key.source.startIdx, value: v(value) }),
  ParamValue(x) {
    if (x.ctorName === 'valueRef') return { ref: (v(x) as Ref).name };
    if (x.ctorName === 'word') return x.sourceString;
    return v(x);
  },
  NumberList: (_l, xs, _r) => list(xs),
  StringList: (_l, xs, _r) => list(xs),
  EmptyList: (_l, _r) => [],
  graphName: (_at, name) => v(name),
  valueRef(_pct, name): Ref {
    return { name: v(name), at: this.source.startIdx };
  },
  name: (x) => (x.ctorName === 'string' ? v(x) : x.sourceString),
  dim(_minus, _first, _ops, _rest) {
    const text = this.sourceString;
    return /^-?[0-9]+$/.test(text) ? Number(text) : canonicalDim(text);
  },
  DimList: (_l, xs, _r) => list(xs),
  bool: (x) => x.sourceString === 'true',
  number(_x) {
    return parseNumber(this.sourceString);
  },
  string(_l, _chars, _r) {
    return JSON.parse(this.sourceString) as string;
  },
});

// ### Locations and diagnostics

class Locator {
  private readonly lineStarts: number[] = [0];
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  loc(offset: number): SourceLoc {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - this.lineStarts[lo]! + 1 };
  }

  error(offset: number, reason: string): KirSyntaxError {
    const { line, col } = this.loc(offset);
    const start = this.lineStarts[line - 1]!;
    const end = this.text.indexOf('\n', start);
    const source = this.text.slice(start, end < 0 ? undefined : end).replace(/\r$/, '');
    const excerpt = `\n  ${source}\n  ${source.slice(0, col - 1).replace(/[^\t]/g, ' ')}^`; // tabs kept, so the caret lines up
    return new KirSyntaxError(this.file, line, col, reason, excerpt);
  }
}

/** What ohm expected at the rightmost failure: literals quoted, rule descriptions as written, deduplicated. */
function expectedItems(m: ohm.FailedMatchResult): string[] {
  const failures = (m as unknown as { getRightmostFailures(): { getText(): string; type: string }[] }).getRightmostFailures();
  return [...new Set(failures.map((f) => (f.type === 'string' ? JSON.stringify(f.getText()) : f.getText())))];
}

function formatExpected(items: readonly string[]): string {
  if (items.length > 6) return `${items.slice(0, 6).join(', ')}, ...`;
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Expectations that mean "a new statement (or the end) could start here", so the error is at pos itself. */
const STARTS_SOMETHING = new Set(['"return"', '"const"', '"param"', '"symbol"', '"region"', 'a value like %x', 'end of input']);

/**
 * Where to report a syntax error found at `pos`. When only continuations of the previous line were expected
 * (a missing ")" or "]") and just whitespace and comments separate pos from the previous token on an earlier
 * line, report just after that token: the error is on that line, not at the start of the next statement.
 */
function failureOffset(text: string, pos: number, expected: readonly string[]): number {
  if (expected.some((e) => STARTS_SOMETHING.has(e))) return pos;
  let end = pos;
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  if (!text.slice(end, pos).includes('\n')) return pos;
  for (;;) {
    // (At end 0, lastIndexOf would search from 0 and find a newline there, looping forever on a leading blank line.)
    const lineStart = end > 0 ? text.lastIndexOf('\n', end - 1) + 1 : 0;
    const code = withoutComment(text.slice(lineStart, end)).trimEnd();
    if (code.length > 0 || lineStart === 0) return lineStart + code.length;
    end = lineStart - 1; // a blank or comment-only line: look at the one before
  }
}

/** A line's text up to a `//` comment that is not inside a string. */
function withoutComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString && c === '\\') i++;
    else if (c === '"') inString = !inString;
    else if (!inString && c === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

// ### AST → Graph, with the structural checks

/** Parse .kir text into a Graph; `file` is used only in diagnostics and SourceLocs. Throws KirSyntaxError. */
export function parseKir(text: string, file = '<input>'): Graph {
  const at = new Locator(file, text);
  const m = grammar.match(text);
  if (m.failed()) {
    const expected = expectedItems(m);
    const pos = m.getRightmostFailurePosition();
    throw at.error(failureOffset(text, pos, expected), `expected ${expected.length ? formatExpected(expected) : m.getExpectedText()}`);
  }
  return buildGraph(semantics(m)['ast']() as GraphAst, at);
}

/**
 * A graph from its AST. A region is built with `outer`: the values visible from its enclosing graphs (their
 * offsets), which it may read and must not redefine, and every definition there (to tell "later" from "never").
 */
function buildGraph(ast: GraphAst, at: Locator, outer?: { readonly visible: ReadonlyMap<string, number>; readonly all: ReadonlyMap<string, number> }): Graph {
  const defined = new Map<string, number>(outer?.visible ?? []); // name -> offset of its definition, as the statements are walked
  const allDefs = new Map<string, number>(outer?.all ?? []); // every definition in the file, to tell "later" from "never"
  const types = new Map<string, TensorType>();
  const define = (r: Ref): void => {
    const first = defined.get(r.name);
    if (first !== undefined) {
      const { line, col } = at.loc(first);
      throw at.error(r.at, `value %${r.name} is defined twice (first at ${line}:${col})`);
    }
    defined.set(r.name, r.at);
  };
  const use = (r: Ref, what: string): void => {
    if (defined.has(r.name)) return;
    const later = allDefs.get(r.name);
    if (later === undefined) throw at.error(r.at, `${what} undefined value %${r.name}`);
    const { line, col } = at.loc(later);
    throw at.error(r.at, `${what} %${r.name} before its definition at ${line}:${col}`);
  };
  for (const i of ast.inputs) if (!allDefs.has(i.ref.name)) allDefs.set(i.ref.name, i.ref.at);
  for (const s of ast.stmts) {
    const refs = s.kind === 'node' ? s.outs : s.kind === 'symbol' ? [] : [s.ref];
    for (const r of refs) if (!allDefs.has(r.name)) allDefs.set(r.name, r.at);
  }

  const inputs: ValueDecl[] = ast.inputs.map(({ ref, type }) => {
    define(ref);
    const t = buildType(type, at);
    types.set(ref.name, t);
    return { name: ref.name, type: t, loc: at.loc(ref.at) };
  });
  const symbols: Record<string, SymbolBound> = {};
  const constants: ConstantDecl[] = [];
  const nodes: Node[] = [];
  for (const s of ast.stmts) {
    if (s.kind === 'symbol') {
      if (outer) throw at.error(s.at, `symbol ${s.name}: symbols are declared at the top level of a graph, not in a region`);
      if (Object.hasOwn(symbols, s.name)) throw at.error(s.at, `symbol ${s.name} is declared twice`);
      if (s.min > s.max) throw at.error(s.at, `symbol ${s.name}: min ${s.min} is greater than max ${s.max}`);
      setOwn(symbols, s.name, { min: s.min, max: s.max });
    } else if (s.kind === 'const' || s.kind === 'param') {
      define(s.ref);
      const type = buildType(s.type, at);
      types.set(s.ref.name, type);
      const loc = at.loc(s.at);
      if (s.kind === 'param') {
        constants.push({ name: s.ref.name, type, ...(s.source !== undefined ? { source: s.source } : {}), loc });
        continue;
      }
      if (!isStaticShape(type.shape)) throw at.error(s.type.at, `constant %${s.ref.name} must have a static shape`);
      // The data is what the constant stores: under a layout or an encoding, that is not its logical shape.
      const layoutIssue = layoutProblems(type.layout, type.shape)[0] ?? (type.encoding.kind === 'tiled-csl' && type.shape.length !== 2 ? 'tiled-csl needs a 2-D tensor' : undefined);
      if (layoutIssue) throw at.error(s.type.at, `constant %${s.ref.name}: ${layoutIssue}`);
      const storage = storageTypeOf(type);
      const shape = storage.shape ?? [s.values.length];
      const n = numel(shape);
      if (s.values.length !== n)
        throw at.error(s.valuesAt, `constant %${s.ref.name} stores ${storage.dtype}[${shape.join(',')}]: it needs ${n} values, got ${s.values.length}`);
      constants.push({ name: s.ref.name, type, value: makeTensor(storage.dtype, shape, s.values), loc });
    } else {
      for (const r of s.inputs) if (r) use(r, 'use of');
      const attrs: Record<string, AttrValue> = {};
      for (const a of s.attrs) {
        if (Object.hasOwn(attrs, a.key)) throw at.error(a.at, `attribute '${a.key}' is given twice`);
        setOwn(attrs, a.key, a.value);
      }
      if (s.types && s.types.length !== s.outs.length)
        throw at.error(s.typesAt, `${s.op} has ${s.outs.length} outputs but ${s.types.length} types`);
      // A region sees what is defined before its node (not the node's own results).
      const regions = s.regions.map((r) => buildGraph(r, at, { visible: defined, all: allDefs }));
      s.outs.forEach((r, k) => {
        define(r);
        if (s.types) types.set(r.name, buildType(s.types[k]!, at));
      });
      const node: Node = {
        op: s.op,
        inputs: s.inputs.map((r) => r?.name ?? ''),
        outputs: s.outs.map((r) => r.name),
        attrs: attrs as Attrs,
        loc: at.loc(s.at),
        ...(regions.length ? { regions } : {}),
      };
      nodes.push(node);
    }
  }
  for (const r of ast.ret) use(r, 'return of');
  return { name: ast.name, symbols, inputs, constants, nodes, outputs: ast.ret.map((r) => r.name), types };
}

/** obj[key] = value, also for keys like `__proto__` that plain assignment would treat specially. */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function buildType(t: TypeAst, at: Locator): TensorType {
  if (!isDType(t.dtype)) throw at.error(t.at, `unknown dtype '${t.dtype}'`);
  let layout: Layout = ROW_MAJOR;
  let encoding: Encoding = DENSE;
  const seen = new Set<string>();
  for (const e of t.extras) {
    if (seen.has(e.key)) throw at.error(e.at, `${e.key} is given twice`);
    seen.add(e.key);
    const params: Record<string, ParamValue> = {};
    for (const p of e.desc.params) {
      if (Object.hasOwn(params, p.key)) throw at.error(p.at, `${e.key} parameter '${p.key}' is given twice`);
      setOwn(params, p.key, p.value);
    }
    const desc: Descriptor = { kind: e.desc.kind, params };
    try {
      if (e.key === 'layout') layout = layoutOf(desc);
      else encoding = encodingOf(desc);
    } catch (err) {
      if (!(err instanceof DescriptorError)) throw err;
      // Point at the parameter the problem is about, else at the kind.
      const param = e.desc.params.find((p) => p.key === err.param);
      throw at.error(param?.at ?? e.desc.at, err.message);
    }
  }
  return tensorType(t.dtype, t.shape, layout, encoding);
}
