// Control flow: If, Loop and Scan, the ops that hold regions (ir/region.ts), with ONNX's semantics.
//   If(cond) runs then_branch or else_branch (no inputs each) and returns its outputs; both branches must give the
//     same types (a static-shape compiler cannot type a value whose shape depends on the branch taken).
//   Loop(M?, cond?, v...) runs body(i, cond, v...) -> (cond', v'..., scan...) while i < M and cond holds (an
//     omitted M is unbounded, an omitted cond is true); carried values keep their type, and each scan output is
//     stacked along a new first axis whose length is the trip count, so a Loop with scan outputs needs a trip
//     count known at compile time (loopTripCount).
//   Scan(states..., xs...) slices each scan input along its axis (scan_input_axes, in the direction
//     scan_input_directions gives), runs body(states..., slices...) -> (states'..., ys...) per slice, and stacks the
//     ys along scan_output_axes (reversed where scan_output_directions says 1). Opset 9+'s form; the importer maps
//     opset 8's batched form onto it.
import { dtypeInfo } from '../dtype.js';
import type { Graph, Node } from '../graph.js';
import { evaluateNode } from '../interp.js';
import { type AttrReader, type OpDef, OpError, registerOp } from '../op.js';
import { type ValueLookup, hasRegions, knownConstants, registerRegionOp } from '../region.js';
import { type Dim, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, formatType, tensorType, typesEqual } from '../types.js';
import { resolveAxis } from './common.js';

/** The registry entry of a region op: arity and attributes are checked as for any op, the rest is in region.ts. */
function regionOp(name: string, inputs: OpDef['inputs'], attrs: OpDef['attrs'] = {}): void {
  const fromRegions = (): never => {
    throw new OpError(`${name} takes its result types and semantics from its regions (ir/region.ts)`);
  };
  registerOp({ name, inputs, attrs, outputs: fromRegions, infer: fromRegions, reference: fromRegions });
}

const isScalar = (t: TensorType): boolean => t.shape.length <= 1 && t.shape.every((d) => d === 1);
const isIntType = (t: TensorType): boolean => dtypeInfo(t.dtype).kind === 'int';

function expectBool(op: string, what: string, t: TensorType): void {
  if (t.dtype !== 'bool' || !isScalar(t)) throw new OpError(`${op}'s ${what} must be one bool, got ${formatType(t)}`);
}

function expectSame(op: string, what: string, got: TensorType, want: TensorType): void {
  if (!typesEqual(got, want)) throw new OpError(`${op}: ${what} is ${formatType(got)}, but must be ${formatType(want)} (kiln keeps a carried value's type through every iteration)`);
}

// ### If

regionOp('If', { min: 1, max: 1 });
registerRegionOp({
  name: 'If',
  regions: ['then_branch', 'else_branch'],
  infer({ inputs, regions, results }) {
    expectBool('If', 'condition', inputs[0]!);
    regions.forEach((r) => {
      if (r.inputs.length) throw new OpError(`If's region @${r.name} takes no inputs, got ${r.inputs.length}`);
    });
    const [then, els] = results as [readonly TensorType[], readonly TensorType[]];
    if (then.length !== els.length) throw new OpError(`If's branches return ${then.length} and ${els.length} values; they must return as many`);
    then.forEach((t, k) => {
      if (!typesEqual(t, els[k]!))
        throw new OpError(`If's branches disagree on result ${k}: then gives ${formatType(t)}, else ${formatType(els[k]!)}; kiln needs one type (fold the condition at compile time, or make both branches agree)`);
    });
    return then.map((t) => tensorType(t.dtype, t.shape));
  },
  reference: (inputs, _attrs, _regions, run) => run(inputs[0]!.data[0] !== 0 ? 0 : 1, []),
});

// ### Loop

/** Iterations the type rule evaluates a computed condition for (beyond that the trip count counts as unknown). */
export const MAX_EVALUATED_TRIPS = 4096;
/** Iterations the interpreter runs before it calls a loop runaway (an omitted M with a condition that never falls). */
const MAX_INTERPRETED_TRIPS = 1 << 24;

/**
 * How many times a Loop runs its body, when that is known at compile time. `m`: the trip count, null when M is
 * omitted (unbounded), undefined when only known at run time; `cond`: the initial condition likewise (null: omitted,
 * i.e. true). Known when the condition stays as it came in (then M iterations), or is computed in the body from the
 * iteration number and constants alone (then evaluated here iteration by iteration, up to `limit`).
 */
export function loopTripCount(body: Graph, m: number | null | undefined, cond: boolean | null | undefined, known: ValueLookup, limit = MAX_EVALUATED_TRIPS): number | undefined {
  if (cond === false || (typeof m === 'number' && m <= 0)) return 0;
  if (cond === undefined) return undefined;
  const condOut = body.outputs[0]!;
  if (condOut === body.inputs[1]!.name) return typeof m === 'number' ? m : undefined;
  if (m === undefined) return undefined;
  const bound = m === null ? Infinity : m;
  const evaluate = conditionEvaluator(body, known);
  if (!evaluate) return undefined;
  for (let i = 0; i < Math.min(bound, limit); i++) if (!evaluate(i)) return i + 1;
  return bound <= limit ? bound : undefined;
}

/** The body's condition as a function of the iteration number, when it reads nothing else computed at run time. */
function conditionEvaluator(body: Graph, known: ValueLookup): ((i: number) => boolean) | undefined {
  const own = knownConstants(body);
  const constant = (v: string): Tensor | undefined => own.get(v) ?? known(v);
  const iter = body.inputs[0]!;
  const producer = new Map<string, Node>();
  for (const n of body.nodes) for (const o of n.outputs) producer.set(o, n);
  const needed = new Set<Node>();
  const pending = [body.outputs[0]!];
  while (pending.length) {
    const v = pending.pop()!;
    if (v === iter.name || constant(v)) continue;
    const p = producer.get(v);
    if (!p || hasRegions(p)) return undefined;
    if (needed.has(p)) continue;
    needed.add(p);
    pending.push(...p.inputs.filter((i) => i !== ''));
  }
  const nodes = body.nodes.filter((n) => needed.has(n));
  return (i) => {
    const env = new Map<string, Tensor>([[iter.name, makeTensor(iter.type.dtype, iter.type.shape as number[], [i])]]);
    const value = (v: string): Tensor | undefined => env.get(v) ?? constant(v);
    for (const n of nodes) evaluateNode(n, n.inputs.map((v) => (v === '' ? undefined : value(v)))).forEach((t, k) => env.set(n.outputs[k]!, t));
    return value(body.outputs[0]!)!.data[0] !== 0;
  };
}

/** A node input's single value when known at compile time: null when omitted, undefined when computed at run time. */
function knownScalar(name: string, known: ValueLookup): number | null | undefined {
  if (name === '') return null;
  return known(name)?.data[0];
}

regionOp('Loop', { min: 2, max: Infinity });
registerRegionOp({
  name: 'Loop',
  regions: ['body'],
  infer({ inputs, regions, results, inputNames, known }) {
    const [m, cond, ...init] = inputs;
    if (m && !(isIntType(m) && isScalar(m))) throw new OpError(`Loop's trip count M must be one integer, got ${formatType(m)}`);
    if (cond) expectBool('Loop', 'condition', cond);
    const body = regions[0]!;
    const n = init.length;
    if (body.inputs.length !== n + 2)
      throw new OpError(`Loop's body takes ${body.inputs.length} inputs; with ${n} carried value(s) it needs ${n + 2} (iteration number, condition, carried values)`);
    const [iter, condIn, ...carried] = body.inputs.map((i) => i.type);
    if (!isIntType(iter!) || !isScalar(iter!)) throw new OpError(`Loop's body takes the iteration number as one integer, got ${formatType(iter!)}`);
    expectBool('Loop', 'body condition input', condIn!);
    init.forEach((t, k) => {
      if (!t) throw new OpError(`Loop's carried value ${k} is omitted; give every loop-carried value an initial value`);
      expectSame('Loop', `body input ${k + 2}`, carried[k]!, t);
    });
    const outs = results[0]!;
    if (outs.length < n + 1) throw new OpError(`Loop's body returns ${outs.length} values; it needs at least ${n + 1} (condition, ${n} carried)`);
    expectBool('Loop', 'body condition result', outs[0]!);
    for (let k = 0; k < n; k++) expectSame('Loop', `body result ${k + 1}`, outs[k + 1]!, init[k]!);
    const scans = outs.slice(n + 1);
    let trips = 0;
    if (scans.length) {
      const t = loopTripCount(body, knownScalar(inputNames[0]!, known), nullableBool(knownScalar(inputNames[1]!, known)), known);
      if (t === undefined)
        throw new OpError(`Loop's ${scans.length} scan output(s) are stacked over its iterations, whose number kiln must know at compile time: make M a constant and the condition constant, passed through unchanged, or computed from the iteration number alone`);
      trips = t;
    }
    return [...init.map((t) => tensorType(t!.dtype, t!.shape)), ...scans.map((t) => tensorType(t.dtype, [trips, ...t.shape]))];
  },
  reference(inputs, _attrs, regions, run, typed) {
    const [m, cond, ...init] = inputs;
    const body = regions[0]!;
    const iter = body.inputs[0]!.type;
    const limit = m ? Math.max(0, m.data[0]!) : Infinity;
    let go = cond ? cond.data[0] !== 0 : true;
    let carried = init as Tensor[];
    let flag = cond ?? makeTensor('bool', [], [1]);
    const scans: Tensor[][] = [];
    for (let i = 0; i < limit && go; i++) {
      if (i >= MAX_INTERPRETED_TRIPS) throw new OpError(`Loop ran ${MAX_INTERPRETED_TRIPS} iterations without its condition falling; it looks unbounded`);
      const outs = run(0, [makeTensor(iter.dtype, iter.shape as number[], [i]), flag, ...carried]);
      flag = outs[0]!;
      go = flag.data[0] !== 0;
      carried = outs.slice(1, 1 + carried.length);
      outs.slice(1 + carried.length).forEach((t, k) => (scans[k] ??= []).push(t));
    }
    const scanCount = body.outputs.length - 1 - init.length;
    const scanTypes = Array.from({ length: scanCount }, (_, k) => scans[k]?.[0] ?? emptyLike(typed(0), 1 + init.length + k));
    return [...carried, ...scanTypes.map((t, k) => stack(scans[k] ?? [], 0, false, t))];
  },
});

const nullableBool = (v: number | null | undefined): boolean | null | undefined => (typeof v === 'number' ? v !== 0 : v);

/** The shape a zero-iteration loop's scan output has per iteration: the body's (typed) result type. */
function emptyLike(body: Graph, output: number): Tensor {
  const t = body.types.get(body.outputs[output]!) ?? body.inputs.find((i) => i.name === body.outputs[output])?.type;
  if (!t || !t.shape.every((d) => typeof d === 'number')) throw new OpError(`Loop ran no iteration and its body result ${output} has no static type to shape the empty scan output`);
  return makeTensor(t.dtype, t.shape as number[], () => 0);
}

// ### Scan

/** The slice of x at `index` along `axis` (that axis dropped). */
export function sliceAxis(x: Tensor, axis: number, index: number): Tensor {
  const len = x.shape[axis]!;
  const inner = numel(x.shape.slice(axis + 1));
  const outer = numel(x.shape.slice(0, axis));
  const data = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) data.set(x.data.subarray((o * len + index) * inner, (o * len + index + 1) * inner), o * inner);
  return { dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...x.shape.slice(axis + 1)], data };
}

/** Stack equally shaped parts along a new `axis` (in reverse order when `reverse`); `like` types an empty stack. */
export function stack(parts: readonly Tensor[], axis: number, reverse: boolean, like: Tensor): Tensor {
  const shape = like.shape;
  for (const p of parts)
    if (p.shape.join(',') !== shape.join(',')) throw new OpError(`a scan output changes shape between iterations ([${shape.join(',')}] then [${p.shape.join(',')}])`);
  const len = parts.length;
  const inner = numel(shape.slice(axis));
  const outer = numel(shape.slice(0, axis));
  const data = new Float64Array(outer * len * inner);
  parts.forEach((p, t) => {
    const at = reverse ? len - 1 - t : t;
    for (let o = 0; o < outer; o++) data.set(p.data.subarray(o * inner, (o + 1) * inner), (o * len + at) * inner);
  });
  return { dtype: like.dtype, shape: [...shape.slice(0, axis), len, ...shape.slice(axis)], data };
}

/** Scan's input-side attributes, checked and normalised: how many states, each scan input's axis and direction. */
export function scanInputLayout(attrs: AttrReader, inputs: readonly (TensorType | Tensor)[]): { states: number; axes: number[]; dirs: readonly number[] } {
  const m = attrs.int('num_scan_inputs');
  const states = inputs.length - m;
  if (m < 1 || states < 0) throw new OpError(`Scan: num_scan_inputs ${m} must be between 1 and the input count ${inputs.length}`);
  const axes = scanList(attrs, 'scan_input_axes', m).map((a, j) => resolveAxis('Scan', a, inputs[states + j]!.shape.length, 'scan_input_axes'));
  return { states, axes, dirs: scanDirections(attrs, 'scan_input_directions', m) };
}

/** Scan's output-side attributes for scan outputs of the given per-iteration ranks: each one's axis and direction. */
export function scanOutputLayout(attrs: AttrReader, ranks: readonly number[]): { axes: number[]; dirs: readonly number[] } {
  const axes = scanList(attrs, 'scan_output_axes', ranks.length).map((a, k) => resolveAxis('Scan', a, ranks[k]! + 1, 'scan_output_axes'));
  return { axes, dirs: scanDirections(attrs, 'scan_output_directions', ranks.length) };
}

function scanList(attrs: AttrReader, name: string, count: number): readonly number[] {
  const v = attrs.optInts(name) ?? new Array<number>(count).fill(0);
  if (v.length !== count) throw new OpError(`Scan: ${name} has ${v.length} entries for ${count} ${name.startsWith('scan_input') ? 'scan inputs' : 'scan outputs'}`);
  return v;
}

function scanDirections(attrs: AttrReader, name: string, count: number): readonly number[] {
  const v = scanList(attrs, name, count);
  if (v.some((d) => d !== 0 && d !== 1)) throw new OpError(`Scan: ${name} entries must be 0 (forward) or 1 (reverse), got [${v.join(',')}]`);
  return v;
}

regionOp('Scan', { min: 1, max: Infinity }, {
  num_scan_inputs: { kind: 'int', required: true },
  scan_input_axes: { kind: 'ints' },
  scan_input_directions: { kind: 'ints' },
  scan_output_axes: { kind: 'ints' },
  scan_output_directions: { kind: 'ints' },
});
registerRegionOp({
  name: 'Scan',
  regions: ['body'],
  infer({ inputs, attrs, regions, results }) {
    inputs.forEach((t, i) => {
      if (!t) throw new OpError(`Scan's input ${i} is omitted; every state and scan input must be given`);
    });
    const ins = inputs as readonly TensorType[];
    const body = regions[0]!;
    const outs = results[0]!;
    const { states, axes } = scanInputLayout(attrs, ins);
    let len: Dim | undefined;
    const slices = ins.slice(states).map((t, j) => {
      const axis = axes[j]!;
      const d = t.shape[axis]!;
      if (len !== undefined && d !== len) throw new OpError(`Scan's scan inputs disagree on the sequence length: ${len} and ${d}`);
      len = d;
      return tensorType(t.dtype, [...t.shape.slice(0, axis), ...t.shape.slice(axis + 1)]);
    });
    if (body.inputs.length !== ins.length) throw new OpError(`Scan's body takes ${body.inputs.length} inputs; it needs ${ins.length} (${states} states, ${slices.length} scan slices)`);
    [...ins.slice(0, states), ...slices].forEach((t, i) => expectSame('Scan', `body input ${i}`, body.inputs[i]!.type, t));
    if (outs.length < states) throw new OpError(`Scan's body returns ${outs.length} values; it needs at least its ${states} states`);
    for (let k = 0; k < states; k++) expectSame('Scan', `body result ${k}`, outs[k]!, ins[k]!);
    const outAxes = scanOutputLayout(attrs, outs.slice(states).map((t) => t.shape.length)).axes;
    const ys = outs.slice(states).map((t, k) => {
      const axis = outAxes[k]!;
      return tensorType(t.dtype, [...t.shape.slice(0, axis), len!, ...t.shape.slice(axis)]);
    });
    return [...ins.slice(0, states).map((t) => tensorType(t.dtype, t.shape)), ...ys];
  },
  reference(inputs, attrs, regions, run, typed) {
    const ins = inputs as readonly Tensor[];
    const body = regions[0]!;
    const layout = scanInputLayout(attrs, ins);
    const xs = ins.slice(layout.states);
    const len = xs[0]!.shape[layout.axes[0]!]!;
    let states = ins.slice(0, layout.states);
    const ys: Tensor[][] = body.outputs.slice(layout.states).map(() => []);
    for (let t = 0; t < len; t++) {
      const slices = xs.map((x, j) => sliceAxis(x, layout.axes[j]!, layout.dirs[j] ? len - 1 - t : t));
      const outs = run(0, [...states, ...slices]);
      states = outs.slice(0, layout.states);
      outs.slice(layout.states).forEach((y, k) => ys[k]!.push(y));
    }
    const like = ys.map((parts, k) => parts[0] ?? emptyScan(typed(0).types.get(body.outputs[layout.states + k]!), k));
    const out = scanOutputLayout(attrs, like.map((t) => t.shape.length));
    return [...states, ...ys.map((parts, k) => stack(parts, out.axes[k]!, out.dirs[k] === 1, like[k]!))];
  },
});

function emptyScan(t: TensorType | undefined, k: number): Tensor {
  if (!t || !t.shape.every((d) => typeof d === 'number')) throw new OpError(`Scan over an empty sequence needs a static type for body result ${k}`);
  return makeTensor(t.dtype, t.shape as number[], () => 0);
}
