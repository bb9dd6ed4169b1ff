// control-flow: resolves If, Loop and Scan at compile time wherever it can, so the GPU runs straight-line kernels
// with no read-back:
//   - an If whose condition is a constant becomes its taken branch, inlined;
//   - a Loop whose trip count is known (M constant, and a condition that stays as it came in, is constant, or is
//     computed from the iteration number alone: loopTripCount in ir/ops/control.ts) is unrolled when small;
//   - a Scan over a static length is unrolled likewise, its slices taken with Slice and its outputs stacked back
//     with Unsqueeze and Concat.
// The bound: at most MAX_UNROLL_TRIPS iterations and MAX_UNROLLED_NODES nodes in all (iterations x body nodes).
// Each unrolled iteration costs its body's dispatches (microseconds each; kernels are deduplicated by spec, so the
// artifact's WGSL does not grow with the trip count, only its dispatch list), while a loop left to run on the GPU
// would cost a read-back of its condition per iteration (a CPU-GPU round trip, ~0.1-1 ms) and is not compiled yet
// at all. A few hundred iterations of a modest body are cheaper unrolled; beyond that the graph (and compile time)
// grows for little gain.
// Folding runs between rounds: an unrolled iteration number is a constant, so what is computed from it folds, which
// can make an If inside the body foldable in turn; the pass repeats until nothing changes.
// Regions left (an If on a run-time condition, a loop too long or with a run-time trip count) get their own copies
// of the constants they read, so the weight passes after this one (f16 storage, sparse encodings, splits), which
// rewrite the readers they see at the top level, never leave a region reading a constant whose type they changed.
import {
  AttrReader,
  type ConstantDecl,
  type Graph,
  type Node,
  type TensorType,
  type ValueLookup,
  allNames,
  freeNames,
  freshNames,
  hasRegions,
  knownConstants,
  lookupOp,
  makeTensor,
  renameReads,
  renameRegionReads,
  tensorType,
} from '../ir/index.js';
import { loopTripCount, scanInputLayout, scanOutputLayout } from '../ir/ops/control.js';
import { foldConstants } from './fold-constants.js';
import { inferShapes } from './infer-shapes.js';
import { EXACT, type Pass, type PassContext, bump } from './pass.js';

export const MAX_UNROLL_TRIPS = 256;
export const MAX_UNROLLED_NODES = 8192;
/** Rounds of simplify-then-fold; each round resolves at least one region op, so this only stops pathological nests. */
const MAX_ROUNDS = 64;

export const controlFlow: Pass = {
  name: 'control-flow',
  summary: 'Inline Ifs with constant conditions, unroll small Loops and Scans of known length; localize constants of regions left.',
  tolerance: EXACT,
  run(g, cx) {
    if (!g.nodes.some(hasRegions)) return g;
    // Typing and folding between rounds count as this pass's work; of their counters only the folds are reported.
    const inner = { ...cx, stats: new Map<string, number>() };
    let cur = inferShapes.run(g, inner);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const next = simplify(cur, new Map(), () => undefined, freshNames(allNames(cur)), cx, true);
      if (next === cur) break;
      cur = foldConstants.run(inferShapes.run(next, inner), inner);
    }
    if (inner.stats.get('nodes-folded')) bump(cx, 'nodes-folded', inner.stats.get('nodes-folded'));
    return localizeConstants(cur, cx);
  },
};

/** What inlining appends to: the graph being rebuilt. */
interface Out {
  readonly nodes: Node[];
  readonly constants: ConstantDecl[];
  readonly types: Map<string, TensorType>;
  /** Types of the graph's values and of the enclosing graphs' (for a region). */
  readonly typeOf: (v: string) => TensorType | undefined;
  readonly fresh: (base: string) => string;
}

type Known = ReadonlyMap<string, NonNullable<ReturnType<ValueLookup>>>;
type Types = (v: string) => TensorType | undefined;

/**
 * g with its region ops resolved where possible (regions left are simplified inside). `top`: g is the model's
 * graph, whose output names are its interface and must survive.
 */
function simplify(g: Graph, known: Known, outer: Types, fresh: (base: string) => string, cx: PassContext<unknown>, top: boolean): Graph {
  const types = new Map(g.types);
  const out: Out = { nodes: [], constants: [...g.constants], types, typeOf: (v) => types.get(v) ?? outer(v), fresh };
  const subst = new Map<string, string>();
  const read = (v: string): string => subst.get(v) ?? v;
  const visible: Known = new Map([...known, ...knownConstants(g)]);
  const value: ValueLookup = (v) => visible.get(v);
  let changed = false;
  for (const original of g.nodes) {
    const node = renameReads(original, read);
    const results = hasRegions(node) ? resolve(node, value, out, cx) : undefined;
    if (!results) {
      if (node !== original) changed = true;
      out.nodes.push(hasRegions(node) ? simplifyRegions(node, visible, out.typeOf, fresh, cx, () => (changed = true)) : node);
      continue;
    }
    changed = true;
    node.outputs.forEach((o, k) => {
      if (results[k] !== o) subst.set(o, results[k]!);
    });
  }
  if (!changed) return g;
  let outputs = g.outputs.map(read);
  if (top) {
    // The interface keeps its names: an output that became another value gets it back through a same-dtype Cast.
    for (const o of new Set(g.outputs)) if (read(o) !== o) add(out, 'Cast', [read(o)], { to: g.types.get(o)!.dtype }, o);
    outputs = [...g.outputs];
  }
  return { ...g, nodes: out.nodes, constants: out.constants, outputs, types: out.types };
}

/** A region op kept, with its regions simplified (Ifs with constant conditions inside them inlined, and so on). */
function simplifyRegions(node: Node, known: Known, types: Types, fresh: (base: string) => string, cx: PassContext<unknown>, changed: () => void): Node {
  const regions = node.regions!.map((r) => simplify(r, known, types, fresh, cx, false));
  if (regions.every((r, k) => r === node.regions![k])) return node;
  changed();
  return { ...node, regions };
}

/** The names of the node's results when it can be resolved now (its nodes appended to `out`), else undefined. */
function resolve(node: Node, value: ValueLookup, out: Out, cx: PassContext<unknown>): string[] | undefined {
  const regions = node.regions ?? [];
  if (node.op === 'If') {
    const cond = value(node.inputs[0]!);
    if (!cond) return undefined;
    bump(cx, 'ifs-inlined');
    return inline(regions[cond.data[0] !== 0 ? 0 : 1]!, [], out, node.outputs);
  }
  if (node.op === 'Loop') {
    const scalar = (k: number): number | null | undefined => (node.inputs[k] === '' ? null : value(node.inputs[k]!)?.data[0]);
    const cond = scalar(1);
    const trips = loopTripCount(regions[0]!, scalar(0), typeof cond === 'number' ? cond !== 0 : cond, value, MAX_UNROLL_TRIPS);
    if (trips === undefined || !withinBudget(trips, regions[0]!)) return undefined;
    bump(cx, 'loops-unrolled');
    return unrollLoop(node, trips, out);
  }
  if (node.op === 'Scan') {
    const def = lookupOp('Scan')!;
    const attrs = new AttrReader('Scan', def.attrs, node.attrs);
    const types = node.inputs.map((v) => out.typeOf(v)!);
    const layout = scanInputLayout(attrs, types);
    const len = types[layout.states]!.shape[layout.axes[0]!]!;
    if (typeof len !== 'number' || !withinBudget(len, regions[0]!)) return undefined;
    bump(cx, 'scans-unrolled');
    return unrollScan(node, attrs, layout, len, out);
  }
  return undefined;
}

const nodeCount = (g: Graph): number => g.nodes.reduce((s, n) => s + 1 + (n.regions ?? []).reduce((t, r) => t + nodeCount(r), 0), 0);
const withinBudget = (trips: number, body: Graph): boolean => trips <= MAX_UNROLL_TRIPS && trips * Math.max(1, nodeCount(body)) <= MAX_UNROLLED_NODES;

/**
 * Append region r with its inputs bound to `args`; returns the names its outputs now have. Values it defines get
 * fresh names, except that a result it computes takes the matching name in `finals` (the node's own output names).
 */
function inline(r: Graph, args: readonly string[], out: Out, finals: readonly (string | undefined)[] = []): string[] {
  const map = new Map<string, string>();
  r.inputs.forEach((i, k) => map.set(i.name, args[k]!));
  const read = (v: string): string => map.get(v) ?? v;
  for (const c of r.constants) {
    const name = out.fresh(c.name);
    map.set(c.name, name);
    out.constants.push({ ...c, name });
    out.types.set(name, c.type);
  }
  const computed = new Set(r.nodes.flatMap((n) => n.outputs));
  const named = new Map<string, string>();
  r.outputs.forEach((o, k) => {
    if (finals[k] && computed.has(o) && !named.has(o)) named.set(o, finals[k]!);
  });
  for (const n of r.nodes) {
    const outputs = n.outputs.map((o) => {
      const name = named.get(o) ?? out.fresh(o);
      map.set(o, name);
      return name;
    });
    out.nodes.push(renameReads({ ...n, outputs }, read));
  }
  return r.outputs.map(read);
}

function constant(out: Out, base: string, type: TensorType, values: readonly number[]): string {
  const name = out.fresh(base);
  const t = tensorType(type.dtype, type.shape);
  out.constants.push({ name, type: t, value: makeTensor(t.dtype, t.shape as number[], values) });
  out.types.set(name, t);
  return name;
}

function add(out: Out, op: string, inputs: readonly string[], attrs: Node['attrs'], name: string): string {
  out.nodes.push({ op, inputs: [...inputs], outputs: [name], attrs });
  return name;
}

/** Stack `parts` along a new `axis` into `name` (Unsqueeze each, then one Concat); none: an empty constant. */
function stackInto(out: Out, parts: readonly string[], axis: number, name: string, type: TensorType): void {
  if (!parts.length) {
    const t = tensorType(type.dtype, type.shape);
    out.constants.push({ name, type: t, value: makeTensor(t.dtype, t.shape as number[], []) });
    out.types.set(name, t);
    return;
  }
  const rows = parts.map((p) => add(out, 'Unsqueeze', [p], { axes: [axis] }, parts.length === 1 ? name : out.fresh(`${name}__row`)));
  if (rows.length > 1) add(out, 'Concat', rows, { axis }, name);
}

function unrollLoop(node: Node, trips: number, out: Out): string[] {
  const body = node.regions![0]!;
  const init = node.inputs.slice(2);
  const n = init.length;
  const iterType = body.inputs[0]!.type;
  let cond = node.inputs[1] !== '' ? node.inputs[1]! : constant(out, `${node.outputs[0]}__cond`, body.inputs[1]!.type, [1]);
  let carried = init;
  const scans: string[][] = body.outputs.slice(1 + n).map(() => []);
  for (let i = 0; i < trips; i++) {
    const iter = constant(out, `${node.outputs[0]}__iter${i}`, iterType, [i]);
    const last = i === trips - 1;
    const res = inline(body, [iter, cond, ...carried], out, last ? [undefined, ...node.outputs.slice(0, n)] : []);
    cond = res[0]!;
    carried = res.slice(1, 1 + n);
    res.slice(1 + n).forEach((s, k) => scans[k]!.push(s));
  }
  scans.forEach((parts, k) => stackInto(out, parts, 0, node.outputs[n + k]!, out.typeOf(node.outputs[n + k]!)!));
  return [...carried, ...node.outputs.slice(n)];
}

function unrollScan(node: Node, attrs: AttrReader, layout: ReturnType<typeof scanInputLayout>, len: number, out: Out): string[] {
  const body = node.regions![0]!;
  const states0 = node.inputs.slice(0, layout.states);
  const xs = node.inputs.slice(layout.states);
  const outTypes = node.outputs.slice(layout.states).map((o) => out.typeOf(o)!);
  const outLayout = scanOutputLayout(attrs, outTypes.map((t) => t.shape.length - 1));
  let states = states0;
  const ys: string[][] = outTypes.map(() => []);
  for (let t = 0; t < len; t++) {
    const slices = xs.map((x, j) => {
      const axis = layout.axes[j]!;
      const at = layout.dirs[j] ? len - 1 - t : t;
      const row = add(out, 'Slice', [x], { starts: [at], ends: [at + 1], axes: [axis] }, out.fresh(`${x}__at${at}`));
      return add(out, 'Squeeze', [row], { axes: [axis] }, out.fresh(`${x}__slice${at}`));
    });
    const last = t === len - 1;
    const res = inline(body, [...states, ...slices], out, last ? node.outputs.slice(0, layout.states) : []);
    states = res.slice(0, layout.states);
    res.slice(layout.states).forEach((y, k) => ys[k]!.push(y));
  }
  ys.forEach((parts, k) => {
    const ordered = outLayout.dirs[k] ? [...parts].reverse() : parts;
    stackInto(out, ordered, outLayout.axes[k]!, node.outputs[layout.states + k]!, outTypes[k]!);
  });
  return [...states, ...node.outputs.slice(layout.states)];
}

/** Regions of g's region ops read constants through copies of their own (see the header); returns g otherwise. */
function localizeConstants(g: Graph, cx: PassContext<unknown>): Graph {
  const decls = new Map(g.constants.map((c) => [c.name, c]));
  const fresh = freshNames(allNames(g));
  let changed = false;
  const nodes = g.nodes.map((node) => {
    if (!node.regions) return node;
    const regions = node.regions.map((r) => {
      const reads = [...freeNames(r)].filter((v) => decls.has(v));
      if (!reads.length) return r;
      changed = true;
      bump(cx, 'constants-localized', reads.length);
      const copies = new Map(reads.map((v) => [v, fresh(`${v}__${r.name}`)]));
      const renamed = renameRegionReads(r, (v) => copies.get(v) ?? v);
      const constants = [...reads.map((v) => ({ ...decls.get(v)!, name: copies.get(v)! })), ...renamed.constants];
      const types = new Map(renamed.types);
      for (const c of constants) types.set(c.name, c.type);
      return { ...renamed, constants, types };
    });
    return { ...node, regions };
  });
  return changed ? { ...g, nodes } : g;
}
