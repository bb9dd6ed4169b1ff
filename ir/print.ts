// The .kir printer. Output is canonical, so print(parse(print(g))) === print(g) byte for byte:
//   - symbols sorted by name, then constants and params in declaration order, then nodes in order, then return;
//   - attributes sorted by key; numbers in the shortest form that round-trips (String(x)), with -0, nan, inf;
//   - names bare when they match [A-Za-z0-9_.$-]+, otherwise JSON-quoted;
//   - a node's `: types` only when every output has a known type in g.types (a partly typed node prints untyped);
//   - a node's regions follow it, one level deeper, each as `region @name(inputs) { body }` (a region's types are its own);
//   - a constant with inline data prints as `const` (a `source` it also has is not printed), one with only a
//     source as `param %p: T = "source"`, and one with neither as `param %p: T`.
// SourceLocs are never printed.
import type { AttrValue, ConstantDecl, Graph, Node } from './graph.js';
import { type DType, isFloat, roundToDType } from './dtype.js';
import { formatName } from './names.js';
import { type AttrKind, lookupOp } from './op.js';
import { formatType } from './types.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export { formatName } from './names.js';

/** A number in its shortest round-tripping text: `-0`, `nan`, `inf`, `-inf` included. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/**
 * The shortest decimal that rounds back to the same element of `dtype`: an f32 weight 0.302 prints as `0.302`,
 * not as the double `0.3019999861717224`. Parsing rounds to the dtype, so this still round-trips exactly.
 */
export function formatElement(x: number, dtype: DType): string {
  if (!Number.isFinite(x) || Object.is(x, -0) || !isFloat(dtype)) return formatNumber(x);
  for (let digits = 1; digits < 17; digits++) {
    const candidate = Number(x.toPrecision(digits));
    if (roundToDType(candidate, dtype) === x) return formatNumber(candidate);
  }
  return formatNumber(x);
}

function formatAttr(v: AttrValue, kind?: AttrKind): string {
  // A 'dims' list prints its symbolic entries bare, as in types: shape = [batch, -1, 2*sequence].
  if (Array.isArray(v) && kind === 'dims') return `[${(v as readonly (number | string)[]).map((x) => (typeof x === 'string' ? x : formatNumber(x))).join(', ')}]`;
  if (Array.isArray(v)) return `[${(v as readonly (number | string)[]).map((x) => (typeof x === 'string' ? JSON.stringify(x) : formatNumber(x))).join(', ')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

const ref = (name: string): string => `%${formatName(name)}`;

function printConstant(c: ConstantDecl): string {
  const head = `${ref(c.name)}: ${formatType(c.type)}`;
  if (c.value) return `const ${head} = [${Array.from(c.value.data, (x) => formatElement(x, c.value!.dtype)).join(', ')}]`;
  return c.source !== undefined ? `param ${head} = ${JSON.stringify(c.source)}` : `param ${head}`;
}

function printNode(g: Graph, n: Node, indent: string): string[] {
  const ins = n.inputs.map((i) => (i === '' ? '_' : ref(i))).join(', ');
  let line = `${n.outputs.map(ref).join(', ')} = ${n.op}(${ins})`;
  const keys = Object.keys(n.attrs).sort();
  if (keys.length) line += ` {${keys.map((k) => `${IDENT.test(k) ? k : JSON.stringify(k)} = ${formatAttr(n.attrs[k]!, lookupOp(n.op)?.attrs[k]?.kind)}`).join(', ')}}`;
  const types = n.outputs.map((o) => g.types.get(o));
  if (types.length && types.every((t) => t !== undefined)) line += ` : ${types.map((t) => formatType(t!)).join(', ')}`;
  return [`${indent}${line}`, ...(n.regions ?? []).flatMap((r) => printRegion(r, `${indent}  `))];
}

/** A region (If's branches, a Loop's body) under its node, one level deeper: `region @body(%i: i32[]) { ... }`. */
function printRegion(r: Graph, indent: string): string[] {
  const inputs = r.inputs.map((i) => `${ref(i.name)}: ${formatType(i.type)}`).join(', ');
  return [`${indent}region @${formatName(r.name)}(${inputs}) {`, ...printBody(r, `${indent}  `), `${indent}}`];
}

/** Constants, nodes and the return statement of a graph or region, each line indented by `indent`. */
function printBody(g: Graph, indent: string): string[] {
  const lines = g.constants.map((c) => `${indent}${printConstant(c)}`);
  for (const n of g.nodes) lines.push(...printNode(g, n, indent));
  lines.push(g.outputs.length ? `${indent}return ${g.outputs.map(ref).join(', ')}` : `${indent}return`);
  return lines;
}

/** The canonical .kir text of g, ending in a newline. */
export function printGraph(g: Graph): string {
  const lines: string[] = [];
  const inputs = g.inputs.map((i) => `${ref(i.name)}: ${formatType(i.type)}`).join(', ');
  lines.push(`graph @${formatName(g.name)}(${inputs}) {`);
  for (const s of Object.keys(g.symbols).sort()) {
    const b = g.symbols[s]!;
    lines.push(`  symbol ${s} in ${b.min}..${b.max}`);
  }
  lines.push(...printBody(g, '  '));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
