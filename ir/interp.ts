// The reference interpreter: evaluates any verified graph on the CPU through each op's reference semantics.
// It is the oracle for every pass and kernel test, so it checks everything it can: input dtypes and shapes
// (binding symbolic dims consistently), and that each op's result matches its inferred type.
import { type DType, roundToDType } from './dtype.js';
import type { ExternalData } from './external.js';
import { evalDim } from './dim.js';
import { type AttrValue, type Attrs, type Graph, type Node, describeNode, formatLoc } from './graph.js';
import { AttrReader, type OpDef, OpError, lookupOp } from './op.js';
import { type ValueLookup, hasRegions, lookupRegionOp, typeRegion } from './region.js';
import { formatShape } from './shape.js';
import type { Tensor } from './tensor.js';
import { type TensorType, decodeStored, formatType, isPlainStorage, tensorType } from './types.js';

export class InterpError extends Error {
  override name = 'InterpError';
}

export type Bindings = Readonly<Record<string, Tensor>>;

/** Reads an external constant's data (weights left in a file) whole, as a tensor of `dtype` and `shape`. */
export type ExternalLoader = (ext: ExternalData, dtype: DType, shape: readonly number[]) => Tensor;

export interface InterpretOptions {
  /** How to read external constants; defaults to the installed loader (in Node, ir/external.ts reads files). */
  readonly loadExternal?: ExternalLoader;
}

// The interpreter is part of the IR core, which loads in a browser, so it does not read files itself: the
// Node-side ir/external.ts installs its file loader here when imported (as ir/index.ts and the importers do).
let installedLoader: ExternalLoader | undefined;

/** Install the loader the interpreter uses for external constants when a call passes none. */
export function installExternalLoader(loader: ExternalLoader): void {
  installedLoader = loader;
}

/** Evaluate g; returns every graph output by name. Constants must carry values (parameters bound beforehand). */
export function interpret(g: Graph, inputs: Bindings, opts: InterpretOptions = {}): Record<string, Tensor> {
  const env = evaluateAll(g, inputs, opts);
  const out: Record<string, Tensor> = {};
  for (const o of g.outputs) out[o] = env.get(o)!;
  return out;
}

/** Evaluate g and return the value of every SSA name (used to compare intermediates). */
export function evaluateAll(g: Graph, inputs: Bindings, opts: InterpretOptions = {}): Map<string, Tensor> {
  const env = new Map<string, Tensor>();
  const symbols = new Map<string, number>();
  for (const decl of g.inputs) {
    const t = inputs[decl.name];
    if (!t) throw new InterpError(`missing input %${decl.name} (${formatType(decl.type)})`);
    if (t.dtype !== decl.type.dtype) throw new InterpError(`input %${decl.name}: expected dtype ${decl.type.dtype}, got ${t.dtype}`);
    if (t.shape.length !== decl.type.shape.length)
      throw new InterpError(`input %${decl.name}: expected shape ${formatShape(decl.type.shape)}, got ${formatShape(t.shape)}`);
    decl.type.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (typeof d === 'number') {
        if (d !== actual) throw new InterpError(`input %${decl.name}: expected shape ${formatShape(decl.type.shape)}, got ${formatShape(t.shape)}`);
        return;
      }
      const bound = symbols.get(d);
      if (bound !== undefined && bound !== actual)
        throw new InterpError(`input %${decl.name}: symbol ${d} is ${bound} elsewhere but ${actual} here`);
      const range = g.symbols[d];
      if (range && (actual < range.min || actual > range.max))
        throw new InterpError(`input %${decl.name}: symbol ${d}=${actual} is outside its bounds ${range.min}..${range.max}`);
      symbols.set(d, actual);
    });
    env.set(decl.name, t);
  }
  bindConstants(g, env, opts);
  runNodes(g, env, () => undefined, opts, symbols);
  return env;
}

function bindConstants(g: Graph, env: Map<string, Tensor>, opts: InterpretOptions): void {
  for (const c of g.constants) {
    if (!c.value && c.external) {
      const load = opts.loadExternal ?? installedLoader;
      if (!load)
        throw new InterpError(`constant %${c.name} is external (tensor '${c.external.name}' in ${c.external.file}) and no loader reads it: import ir/index.js in Node, or pass interpret's loadExternal option`);
      env.set(c.name, load(c.external, c.type.dtype, c.type.shape as number[]));
      continue;
    }
    if (!c.value) throw new InterpError(`constant %${c.name} has no data (parameter '${c.source ?? '?'}' was never bound to weights)`);
    env.set(c.name, c.value);
  }
  // Constants with a layout or an encoding hold their stored form: decode them to the logical tensors ops read.
  // Their companions (a quant encoding's scales and zeros) are plain constants, already in env. A checkpoint
  // tensor is loaded logical whatever its layout (the layout is applied only when packed), so it is not decoded.
  for (const c of g.constants)
    if (!isPlainStorage(c.type) && c.value) env.set(c.name, decodeStored(c.type, env.get(c.name)!, (name) => env.get(name)!));
}

/** Run g's nodes in order into env; names g does not define are read from the enclosing graphs through `outer`. */
function runNodes(g: Graph, env: Map<string, Tensor>, outer: ValueLookup, opts: InterpretOptions, symbols: ReadonlyMap<string, number>): void {
  const value: ValueLookup = (name) => env.get(name) ?? outer(name);
  for (const node of g.nodes) {
    const ins = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = value(name);
      if (!v) throw new InterpError(`${formatLoc(node.loc)}${describeNode(node)}: %${name} is used before it is defined`);
      return v;
    });
    const results = hasRegions(node) ? evaluateRegionNode(node, ins, value, opts, symbols) : evaluateNode(node, ins, symbols);
    results.forEach((r, k) => env.set(node.outputs[k]!, r));
  }
}

// ### Regions (If, Loop, Scan): the op's reference runs a region through evaluateRegion as often as it needs.

/** Evaluate a region on its arguments (its inputs, in order), reading enclosing values through `outer`. */
export function evaluateRegion(region: Graph, args: readonly Tensor[], outer: ValueLookup, opts: InterpretOptions = {}, symbols: ReadonlyMap<string, number> = new Map()): Tensor[] {
  if (args.length !== region.inputs.length) throw new OpError(`region @${region.name} takes ${region.inputs.length} arguments, got ${args.length}`);
  const env = new Map<string, Tensor>();
  region.inputs.forEach((decl, k) => {
    const t = args[k]!;
    const fits = t.dtype === decl.type.dtype && t.shape.length === decl.type.shape.length && decl.type.shape.every((d, i) => typeof d !== 'number' || d === t.shape[i]);
    if (!fits) throw new OpError(`region @${region.name} input %${decl.name} is ${formatType(decl.type)} but gets ${t.dtype}${formatShape(t.shape)}`);
    env.set(decl.name, t);
  });
  bindConstants(region, env, opts);
  runNodes(region, env, outer, opts, symbols);
  return region.outputs.map((o) => {
    const v = env.get(o) ?? outer(o);
    if (!v) throw new OpError(`region @${region.name} returns %${o}, which is not defined`);
    return v;
  });
}

function evaluateRegionNode(node: Node, ins: readonly (Tensor | undefined)[], outer: ValueLookup, opts: InterpretOptions, symbols: ReadonlyMap<string, number>): Tensor[] {
  const where = `${formatLoc(node.loc)}${describeNode(node)}`;
  const def = lookupOp(node.op);
  const rdef = lookupRegionOp(node.op);
  if (!def || !rdef) throw new InterpError(`${where}: ${def ? `${node.op} takes no regions` : `unknown op ${node.op}`}`);
  const regions = node.regions ?? [];
  try {
    const typeOf = (v: string): TensorType | undefined => {
      const t = outer(v);
      return t && tensorType(t.dtype, t.shape);
    };
    const run = (k: number, args: readonly Tensor[]): Tensor[] => evaluateRegion(regions[k]!, args, outer, opts, symbols);
    return rdef.reference(ins, new AttrReader(node.op, def.attrs, node.attrs), regions, run, (k) => typeRegion(regions[k]!, typeOf, outer));
  } catch (e) {
    // Errors of the region's own nodes name those nodes already; what the op itself rejects gets this node's name.
    if (e instanceof OpError) throw new InterpError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Run one node's reference semantics on concrete inputs; results are checked against inference and rounded. */
export function evaluateNode(node: Node, ins: readonly (Tensor | undefined)[], symbols: ReadonlyMap<string, number> = new Map()): Tensor[] {
  const def = lookupOp(node.op);
  const where = `${formatLoc(node.loc)}${describeNode(node)}`;
  if (!def) throw new InterpError(`${where}: unknown op ${node.op}`);
  if (hasRegions(node)) throw new InterpError(`${where}: ${node.op} runs regions, which need the enclosing graph's values: evaluate the graph (interpret/evaluateAll)`);
  const attrs = new AttrReader(node.op, def.attrs, bindDimAttrs(node, def, symbols));
  let results: Tensor[];
  try {
    const outTypes = def.infer(
      ins.map((t) => (t ? tensorType(t.dtype, t.shape) : undefined)),
      attrs,
    );
    results = def.reference(ins, attrs, outTypes);
    results.forEach((r, k) => {
      const want = outTypes[k]!;
      if (r.dtype !== want.dtype || formatShape(r.shape) !== formatShape(want.shape))
        throw new InterpError(`reference returned ${r.dtype}${formatShape(r.shape)} for output ${k}, inferred ${formatType(want)}`);
    });
  } catch (e) {
    if (e instanceof OpError || e instanceof InterpError) throw new InterpError(`${where}: ${e.message}`);
    throw e;
  }
  // Normalise to the dtype once more so a sloppy reference cannot carry excess precision downstream. Copy first:
  // a reference may hand back an input's data array (Reshape), which must not be touched.
  return results.map((r) => {
    const data = new Float64Array(r.data.length);
    for (let i = 0; i < data.length; i++) data[i] = roundToDType(r.data[i]!, r.dtype);
    return { dtype: r.dtype, shape: r.shape, data };
  });
}

/** A node's attributes with every symbolic entry of its 'dims' attributes evaluated under the symbols' values. */
export function bindDimAttrs(node: Node, def: OpDef, symbols: ReadonlyMap<string, number>): Attrs {
  let out: Record<string, AttrValue> | undefined;
  for (const [k, v] of Object.entries(node.attrs)) {
    if (def.attrs[k]?.kind !== 'dims' || !Array.isArray(v) || !v.some((d) => typeof d === 'string')) continue;
    out ??= { ...node.attrs };
    try {
      out[k] = (v as readonly (number | string)[]).map((d) => evalDim(d, symbols));
    } catch (e) {
      throw new InterpError(`${formatLoc(node.loc)}${describeNode(node)}: attribute ${k}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out ?? node.attrs;
}
