// arbKirGraph: graphs that exercise every feature of the textual IR, for the print/parse round-trip property.
// They are structurally valid (SSA, every use defined, constants of the right size) but not semantically valid:
// op names, arities and attributes are random, so they are never verified or interpreted.
//
// A graph is generated as a recipe of small records (indices, flags) and then interpreted deterministically,
// so fast-check shrinks the recipe and the graph shrinks with it.
import fc from 'fast-check';
import { ALL_DTYPES, type DType } from '../../../ir/dtype.js';
import type { AttrValue, ConstantDecl, Graph, Node, ValueDecl } from '../../../ir/graph.js';
import type { Dim, SymbolBound } from '../../../ir/shape.js';
import { makeTensor } from '../../../ir/tensor.js';
import { DENSE, type Encoding, type Layout, ROW_MAJOR, TRANSPOSED, type TensorType, blocked, quantEncoding, tensorType, tiledCslEncoding } from '../../../ir/types.js';

const SYMBOLS = ['batch', 'seq', 'n', '_k2', 'S', 'H_dim'];
const OPS = ['Add', 'Relu', 'Split', 'Gemm', 'MatMul', 'com.ms.FusedThing', '_private', 'Op2'];
const WEIRD_NAMES = ['weird/name:0', 'a b', 'q"uote', 'back\\slash', 'new\nline', 'tab\t', 'é', '∑x', '', '🙂', '\u0001', '__proto__', 'return', '_'];
const BARE_NAMES = ['0', 'x', 'a.b', 'x-1', '$t', '_', 'graph', 'const', 'inf', 'nan', 'layer.0.weight', '__proto__'];

const arbName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BARE_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...WEIRD_NAMES) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.$-]{1,6}$/) },
);

// Mostly short numbers (ohm parses ~100 KB/s, so long random doubles would dominate the test's run time).
const arbDouble = fc.oneof(
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 0.1, 1e21, 5e-324, -1.5, 2 ** 53, 1 / 3) },
  { weight: 4, arbitrary: fc.integer({ min: -300, max: 300 }) },
);

const arbTile = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }));
/** Every layout kind with random (not necessarily valid for the shape: these graphs are never verified) parameters. */
const arbLayout: fc.Arbitrary<Layout | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(ROW_MAJOR, TRANSPOSED) },
  { weight: 1, arbitrary: fc.tuple(arbTile, fc.constantFrom<'row' | 'col'>('row', 'col')).map(([t, o]) => blocked(t, o)) },
);
const arbEncoding: fc.Arbitrary<Encoding | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(DENSE) },
  { weight: 1, arbitrary: fc.tuple(arbTile, fc.constantFrom<'f16' | 'f32'>('f16', 'f32')).map(([t, v]) => tiledCslEncoding(t, v)) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        bits: fc.integer({ min: 1, max: 8 }),
        scheme: fc.constantFrom<'signed' | 'unsigned' | 'bipolar'>('signed', 'unsigned', 'bipolar'),
        group: fc.integer({ min: 1, max: 256 }),
        axis: fc.integer({ min: 0, max: 3 }),
        scale: fc.constantFrom<'f16' | 'f32'>('f16', 'f32'),
        packing: fc.constantFrom<'planes' | 'packed'>('planes', 'packed'),
        scales: arbName,
        zeros: fc.option(arbName, { nil: undefined }),
      })
      .map(({ zeros, ...p }) =>
        quantEncoding({ ...p, zero: zeros !== undefined && p.scheme !== 'bipolar' ? 'per-group' : 'none', ...(zeros !== undefined && p.scheme !== 'bipolar' ? { zeros } : {}) }),
      ),
  },
);

const arbAttrValue: fc.Arbitrary<AttrValue> = fc.oneof(
  fc.integer({ min: -10, max: 10 }),
  arbDouble,
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.array(fc.integer({ min: -100, max: 100 }), { maxLength: 4 }),
  fc.array(arbDouble, { maxLength: 4 }),
  fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 3 }),
);
const arbAttrKey = fc.oneof(fc.constantFrom('axis', 'alpha', 'transB', 'split', 'to', 'perm', 'keepdims', '__proto__', 'x_2'), fc.string({ maxLength: 4 }));

/** A type recipe: dims refer to symbols by index when `sym` is set. */
const arbTypeRecipe = fc.record({
  dtype: fc.constantFrom(...ALL_DTYPES),
  dims: fc.array(fc.record({ size: fc.integer({ min: 0, max: 3 }), sym: fc.option(fc.nat(), { freq: 3, nil: undefined }) }), { maxLength: 3 }),
  layout: arbLayout,
  encoding: arbEncoding,
});
type TypeRecipe = typeof arbTypeRecipe extends fc.Arbitrary<infer T> ? T : never;

const arbStmt = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('const' as const), name: arbName, type: arbTypeRecipe, data: fc.array(arbDouble, { maxLength: 24 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('param' as const), name: arbName, type: arbTypeRecipe, source: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('node' as const),
      op: fc.constantFrom(...OPS),
      inputs: fc.array(fc.option(fc.nat(), { freq: 5, nil: undefined }), { maxLength: 4 }),
      outputs: fc.array(fc.record({ name: arbName, type: arbTypeRecipe }), { minLength: 1, maxLength: 3 }),
      // Output types are all known or all unknown: the printer writes `: types` only when every one is known.
      typed: fc.boolean(),
      attrs: fc.array(fc.tuple(arbAttrKey, arbAttrValue), { maxLength: 4 }),
    }),
  },
);

const arbRecipe = fc.record({
  name: arbName,
  symbols: fc.array(fc.record({ sym: fc.nat(), min: fc.integer({ min: 0, max: 100 }), span: fc.integer({ min: 0, max: 1000 }) }), { maxLength: 3 }),
  inputs: fc.array(fc.record({ name: arbName, type: arbTypeRecipe }), { maxLength: 3 }),
  stmts: fc.array(arbStmt, { maxLength: 8 }),
  outputs: fc.array(fc.nat(), { maxLength: 4 }),
});
type Recipe = typeof arbRecipe extends fc.Arbitrary<infer T> ? T : never;

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function buildKirGraph(r: Recipe): Graph {
  const symbols: Record<string, SymbolBound> = {};
  for (const s of r.symbols) setOwn(symbols, SYMBOLS[s.sym % SYMBOLS.length]!, { min: s.min, max: s.min + s.span });
  const symbolNames = Object.keys(symbols);
  // Undeclared symbols are structurally fine (the verifier may object), so dims may use any name from the pool.
  const symPool = symbolNames.length ? symbolNames : SYMBOLS;
  const makeType = (t: TypeRecipe, staticOnly: boolean): TensorType => {
    const shape: Dim[] = t.dims.map((d) => (d.sym === undefined || staticOnly ? d.size : symPool[d.sym % symPool.length]!));
    return tensorType(t.dtype as DType, shape, t.layout ?? ROW_MAJOR, t.encoding ?? DENSE);
  };

  const taken = new Set<string>();
  const defined: string[] = [];
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    defined.push(name);
    return name;
  };
  const types = new Map<string, TensorType>();
  const inputs: ValueDecl[] = r.inputs.map((i) => {
    const decl = { name: fresh(i.name), type: makeType(i.type, false) };
    types.set(decl.name, decl.type);
    return decl;
  });
  const constants: ConstantDecl[] = [];
  const nodes: Node[] = [];
  for (const s of r.stmts) {
    if (s.kind === 'const') {
      // Inline data is what a constant stores; a layout or encoding would change its size (parse checks it), so
      // constants stay plain here and params, inputs and outputs carry the layouts and encodings.
      const type = makeType({ ...s.type, layout: undefined, encoding: undefined }, true);
      const shape = type.shape as number[];
      const value = makeTensor(type.dtype, shape, (i) => (s.data.length ? s.data[i % s.data.length]! : i));
      const name = fresh(s.name);
      constants.push({ name, type, value });
      types.set(name, type);
    } else if (s.kind === 'param') {
      const type = makeType(s.type, false);
      const name = fresh(s.name);
      constants.push({ name, type, ...(s.source !== undefined ? { source: s.source } : {}) });
      types.set(name, type);
    } else {
      // Inputs are picked among values defined so far (an absent index is an omitted optional input).
      const ins = s.inputs.map((k) => (k === undefined || defined.length === 0 ? '' : defined[k % defined.length]!));
      const attrs: Record<string, AttrValue> = {};
      for (const [k, v] of s.attrs) setOwn(attrs, k, v);
      const outs = s.outputs.map((o) => fresh(o.name));
      if (s.typed) s.outputs.forEach((o, k) => types.set(outs[k]!, makeType(o.type, false)));
      nodes.push({ op: s.op, inputs: ins, outputs: outs, attrs });
    }
  }
  const outputs = defined.length ? r.outputs.map((k) => defined[k % defined.length]!) : [];
  return { name: r.name, symbols, inputs, constants, nodes, outputs, types };
}

/** Structurally valid graphs using every textual feature (see file comment). */
export function arbKirGraph(): fc.Arbitrary<Graph> {
  return arbRecipe.map(buildKirGraph);
}
