// Control flow: If, Loop and Scan, imported with their graph attributes as regions (subgraph.ts) of kiln's region
// ops (ir/ops/control.ts). Versions, per ONNX's changelog (tensor semantics unchanged throughout; later versions
// only widen the types, and sequence or optional values are refused as kiln has no such values):
//   If    1 (opset 7..10), 11 (branches may differ in shape), 13 (sequences), 16 (optionals), 19, 21, 23, 24, 25
//         (new element types). A condition known at import inlines the taken branch, so shape tests as PyTorch
//         exports them (`if x.size(0) > 1`) leave no If behind; a run-time one becomes an If whose branches must
//         agree on their result types.
//   Loop  1 (opset 7..10), 11 (M and cond may be omitted in more forms, loop-carried shapes may vary), 13, 16, 19,
//         21, 23, 24, 25 (types). An int64 trip count beyond i32 means "unbounded" (PyTorch's while loops).
//   Scan  8 (a batch axis 0 and an optional sequence_lens input; mapped onto per-batch Scans), 9 (scan axes and
//         directions as attributes), 11 (negative axes), 16, 19, 21, 23, 24, 25 (types).
import type { AttrValue, Attrs, Graph, Node } from '../../../graph.js';
import { OpError } from '../../../op.js';
import { loopTripCount } from '../../../ops/control.js';
import { makeTensor } from '../../../tensor.js';
import { type TensorType, formatType, tensorType } from '../../../types.js';
import type { NodeContext } from '../context.js';
import { OnnxUnsupportedError, invalid, unsupported } from '../errors.js';
import type { GraphProto } from '../proto.js';
import { type OpRule, rules } from '../rule.js';
import { graphAttr, importRegion, inlineGraph, nodeLabel, renameDefined } from '../subgraph.js';

/** Emit region op `op` writing the node's outputs; `count` results (unrequested ones get fresh names). */
function emitRegionNode(cx: NodeContext, op: string, inputs: readonly string[], attrs: Attrs, regions: readonly Graph[], count: number): void {
  if (cx.outputCount > count) invalid(`${cx.op} names ${cx.outputCount} outputs, but its body gives ${count}`);
  const names = Array.from({ length: count }, (_, k) => cx.output(k) || cx.tmp(`${op.toLowerCase()}${k}`));
  try {
    cx.values.builder.regionNode(op, inputs, attrs, regions, { names });
  } catch (e) {
    if (e instanceof OpError) unsupported('ir', `kiln's ${op} rejects this ${cx.op}: ${e.message}`);
    throw e;
  }
  for (const n of names) cx.values.claim(n);
}

/** IR names of the node's inputs ('' stays ''): known values are declared as constants. */
const materialized = (cx: NodeContext, from = 0): string[] => cx.node.input.slice(from).map((i) => (i === '' ? '' : cx.values.materialize(i)));
const irType = (cx: NodeContext, ir: string): TensorType => cx.values.builder.typeOf(ir);

// ### If

function ifRule(cx: NodeContext): void {
  const cond = cx.constant(0);
  if (cond) {
    if (cond.data.length !== 1) invalid(`If's condition must hold one value, got [${cond.shape.join(',')}]`);
    const taken = cond.data[0] !== 0 ? 'then_branch' : 'else_branch';
    const branch = graphAttr(cx, taken);
    if (branch.input.length) invalid(`If's ${taken} takes ${branch.input.length} inputs; it must take none`);
    const outs = inlineGraph(cx, branch, taken);
    if (outs.length < cx.outputCount) invalid(`If names ${cx.outputCount} outputs, but its branch returns ${outs.length}`);
    outs.forEach((o, k) => cx.alias(k, o));
    return;
  }
  const regions = [importRegion(cx, 'then_branch', []), importRegion(cx, 'else_branch', [])];
  emitRegionNode(cx, 'If', materialized(cx), {}, regions, regions[0]!.outputs.length);
}

// ### Loop

/** Body input k's declared shape when it is [1] (the iteration number and condition are scalars otherwise). */
const scalarShape = (g: GraphProto, k: number): number[] => (g.input[k]?.type?.tensor_type?.shape?.dim.length === 1 ? [1] : []);

function loopRule(cx: NodeContext): void {
  if (cx.inputCount < 2) invalid(`Loop takes M and cond (either may be empty) before its loop-carried values, got ${cx.inputCount} inputs`);
  const m = cx.constant(0);
  // PyTorch exports `while` loops with M = INT64_MAX: no bound that an i32 iteration counter could reach.
  const unbounded = m !== undefined && m.data[0]! > 2 ** 31 - 1;
  if (unbounded) cx.note(`Loop ${nodeLabel(cx)}: trip count ${m.data[0]} is beyond i32; taken as unbounded (the condition ends the loop)`);
  const inputs = [unbounded || !cx.has(0) ? '' : cx.values.materialize(cx.input(0)), ...materialized(cx, 1)];
  const g = graphAttr(cx, 'body');
  const carried = inputs.slice(2).map((v, k) => (v === '' ? invalid(`Loop's loop-carried value ${k} is omitted`) : irType(cx, v)));
  let body: Graph;
  try {
    body = importRegion(cx, 'body', [tensorType('i32', scalarShape(g, 0)), tensorType('bool', scalarShape(g, 1)), ...carried]);
  } catch (e) {
    if (!(e instanceof OnnxUnsupportedError) || e.category !== 'dynamic') throw e;
    unrollAtImport(cx, g, unbounded ? Infinity : undefined, e);
    return;
  }
  if (body.outputs.length < carried.length + 1) invalid(`Loop's body returns ${body.outputs.length} values; it must return the condition and ${carried.length} loop-carried values`);
  if (body.outputs.length > carried.length + 1) requireTripCount(cx, inputs, body);
  emitRegionNode(cx, 'Loop', inputs, {}, [body], body.outputs.length - 1);
}

/** Most iterations a Loop is unrolled at import (each one imports the body again). */
const MAX_IMPORT_UNROLL = 1024;

/**
 * A body that needs compile-time values which change per iteration (a Slice bound computed from the iteration
 * number, as `x[i]` exports) cannot be one region: it is unrolled here, each copy of the body imported with its
 * iteration number known. That needs the trip count and every iteration's condition known at import; otherwise the
 * refusal names the graph input they come from. `bound`: Infinity for an M beyond i32.
 */
function unrollAtImport(cx: NodeContext, g: GraphProto, bound: number | undefined, why: OnnxUnsupportedError): void {
  const refuse = (what: string, name: string): never =>
    unsupported('dynamic', `${why.message.replace(/^unsupported: /, '')}; as the body needs per-iteration values at compile time, kiln unrolls this Loop at import, which needs ${what} known`, graphInputBehind(cx, cx.values.resolve(name)));
  const m = bound ?? (cx.has(0) ? cx.constant(0)?.data[0] : Infinity);
  if (m === undefined) return refuse('its trip count M', cx.input(0));
  const c0 = cx.has(1) ? cx.constant(1)?.data[0] : 1;
  if (c0 === undefined) return refuse('its initial condition', cx.input(1));
  const n = cx.inputCount - 2;
  let go = c0 !== 0;
  let carried = cx.node.input.slice(2);
  const scans: string[][] = Array.from({ length: g.output.length - 1 - n }, () => []);
  for (let i = 0; i < m && go; i++) {
    if (i >= MAX_IMPORT_UNROLL) unsupported('dynamic', `Loop runs more than ${MAX_IMPORT_UNROLL} iterations and its body needs per-iteration values at compile time (${why.message.replace(/^unsupported: /, '')})`);
    const copy = renameDefined(g, `__it${i}`);
    cx.values.setConst(copy.input[0]?.name ?? '', makeTensor('i64', [], [i]));
    cx.values.setConst(copy.input[1]?.name ?? '', makeTensor('bool', [], [go ? 1 : 0]));
    carried.forEach((v, k) => cx.values.alias(copy.input[2 + k]?.name ?? invalid(`Loop's body takes fewer inputs than its ${n} loop-carried values`), v));
    const outs = inlineGraph(cx, copy, 'body');
    const cond = cx.values.constOf(outs[0]!);
    if (!cond) return refuse(`its condition at every iteration (iteration ${i} computes it at run time)`, cx.input(1));
    go = cond.data[0] !== 0;
    carried = outs.slice(1, 1 + n);
    outs.slice(1 + n).forEach((o, k) => scans[k]!.push(o));
  }
  carried.forEach((v, k) => cx.alias(k, v));
  scans.forEach((parts, k) => {
    if (!parts.length) unsupported('dynamic', `Loop runs no iteration, so its scan output ${k} has no element shape to stack`);
    const rows = parts.map((p) => cx.emit1('Unsqueeze', [p], { axes: [0] }));
    if (rows.length === 1) cx.alias(n + k, rows[0]!);
    else cx.emit('Concat', rows, { axis: 0 }, [cx.output(n + k) || cx.tmp(`loop_scan${k}`)]);
  });
}

/**
 * Scan outputs are stacked over the iterations, so their length must be known at compile time: when it is not,
 * say which graph input to fix (a 'dynamic' refusal naming the input the trip count or condition comes from).
 */
function requireTripCount(cx: NodeContext, inputs: readonly string[], body: Graph): void {
  const known = (v: string): ReturnType<typeof cx.values.constOf> => cx.values.constOf(v);
  const value = (k: number): number | null | undefined => (inputs[k] === '' ? null : known(inputs[k]!)?.data[0]);
  const m = value(0);
  const cond = value(1);
  if (loopTripCount(body, m, typeof cond === 'number' ? cond !== 0 : cond, known) !== undefined) return;
  const culprit = m === undefined ? inputs[0]! : inputs[1]!;
  unsupported(
    'dynamic',
    `Loop has ${body.outputs.length - 1 - (inputs.length - 2)} scan output(s), stacked over its iterations, so kiln must know the trip count at compile time: make M (and the condition) constants${culprit ? ` ('${culprit}' is computed at run time)` : ''}`,
    graphInputBehind(cx, culprit),
  );
}

/** A graph input that value `v` is computed from (the one to fix at compile time), if any. */
function graphInputBehind(cx: NodeContext, v: string): string | undefined {
  if (v === '') return undefined;
  const g = cx.values.builder.build();
  const inputs = new Set(g.inputs.map((i) => i.name));
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const seen = new Set<string>();
  const pending = [v];
  while (pending.length) {
    const x = pending.shift()!;
    if (inputs.has(x)) return x;
    if (seen.has(x)) continue;
    seen.add(x);
    pending.push(...(producer.get(x)?.inputs.filter((i) => i !== '') ?? []));
  }
  return undefined;
}

// ### Scan

const SCAN_ATTRS = ['num_scan_inputs', 'scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions'] as const;

/** The type without axis `axis`: what the body sees of a scan input per iteration. */
const dropAxis = (t: TensorType, axis: number): TensorType => tensorType(t.dtype, [...t.shape.slice(0, axis), ...t.shape.slice(axis + 1)]);

function scanAttrs(cx: NodeContext): Record<string, AttrValue> {
  for (const name of cx.attrs.names())
    if (name !== 'body' && !(SCAN_ATTRS as readonly string[]).includes(name)) unsupported('attribute', `Scan attribute '${name}'`);
  const out: Record<string, AttrValue> = {};
  for (const name of SCAN_ATTRS) {
    const v = name === 'num_scan_inputs' ? cx.attrs.int(name) : cx.attrs.ints(name);
    if (v !== undefined) out[name] = v;
  }
  if (out.num_scan_inputs === undefined) invalid(`Scan needs attribute 'num_scan_inputs'`);
  return out;
}

function scanRule(cx: NodeContext): void {
  const attrs = scanAttrs(cx);
  const inputs = materialized(cx);
  const types = inputs.map((v, i) => (v === '' ? invalid(`Scan's input ${i} is omitted`) : irType(cx, v)));
  const states = types.length - (attrs.num_scan_inputs as number);
  if (states < 0) invalid(`Scan's num_scan_inputs ${attrs.num_scan_inputs} exceeds its ${types.length} inputs`);
  const axes = (attrs.scan_input_axes as number[] | undefined) ?? types.slice(states).map(() => 0);
  const slices = types.slice(states).map((t, j) => {
    const a = axes[j] ?? 0;
    const axis = a < 0 ? a + t.shape.length : a;
    if (axis < 0 || axis >= t.shape.length) invalid(`Scan's scan_input_axes ${a} is out of range for input ${states + j} (${formatType(t)})`);
    return dropAxis(t, axis);
  });
  const body = importRegion(cx, 'body', [...types.slice(0, states), ...slices]);
  emitRegionNode(cx, 'Scan', inputs, attrs, [body], body.outputs.length);
}

/**
 * Scan-8: every input and output has a batch axis 0 (scan inputs scan along axis 1) and an optional sequence_lens
 * input that may shorten sequences per batch entry. Mapped onto one Scan-9 per batch entry (the batch must be
 * static), sliced out and stacked back; sequence_lens must say "full length" for every entry.
 */
function scan8Rule(cx: NodeContext): void {
  for (const name of cx.attrs.names())
    if (!['body', 'num_scan_inputs', 'directions'].includes(name)) unsupported('attribute', `Scan attribute '${name}'`);
  const m = cx.attrs.int('num_scan_inputs') ?? invalid(`Scan needs attribute 'num_scan_inputs'`);
  const inputs = materialized(cx, 1);
  const types = inputs.map((v, i) => (v === '' ? invalid(`Scan's input ${i + 1} is omitted`) : irType(cx, v)));
  const states = types.length - m;
  if (states < 0 || m < 1) invalid(`Scan's num_scan_inputs ${m} does not fit its ${types.length} state and scan inputs`);
  const batch = types[0]?.shape[0];
  if (typeof batch !== 'number' || types.some((t) => t.shape[0] !== batch))
    return unsupported('dynamic', `Scan (opset 8) needs one static batch size on axis 0 of every input, got ${types.map(formatType).join(', ')}`);
  const len = types[states]!.shape[1];
  if (cx.has(0)) {
    const lens = cx.requireConst(0, 'sequence_lens');
    if ([...lens.data].some((l) => l !== len)) unsupported('attribute', `Scan (opset 8) with sequence_lens shorter than the sequence (${len}): only full-length sequences are supported`);
  }
  const perBatch = types.map((t) => dropAxis(t, 0));
  const body = importRegion(cx, 'body', [...perBatch.slice(0, states), ...perBatch.slice(states).map((t) => dropAxis(t, 0))]);
  const directions = cx.attrs.ints('directions');
  const attrs: Attrs = { num_scan_inputs: m, ...(directions ? { scan_input_directions: directions } : {}) };
  const count = body.outputs.length;
  if (cx.outputCount > count) invalid(`Scan names ${cx.outputCount} outputs, but its body gives ${count}`);
  const results: string[][] = Array.from({ length: count }, () => []);
  for (let b = 0; b < batch; b++) {
    const sliced = inputs.map((v) => cx.emit1('Squeeze', [cx.emit1('Slice', [v], { starts: [b], ends: [b + 1], axes: [0] })], { axes: [0] }));
    const names = Array.from({ length: count }, (_, k) => cx.tmp(`scan${k}_b${b}`));
    try {
      cx.values.builder.regionNode('Scan', sliced, attrs, [body], { names });
    } catch (e) {
      if (e instanceof OpError) unsupported('ir', `kiln's Scan rejects this Scan: ${e.message}`);
      throw e;
    }
    for (const n of names) cx.values.claim(n);
    names.forEach((n, k) => results[k]!.push(cx.emit1('Unsqueeze', [n], { axes: [0] })));
  }
  results.forEach((parts, k) => {
    const out = cx.output(k) || cx.tmp(`scan${k}`);
    if (parts.length === 1) cx.alias(k, parts[0]!);
    else cx.emit('Concat', parts, { axis: 0 }, [out]);
  });
}

export const CONTROL_RULES: OpRule[] = [
  ...rules('If', [7, 10, ifRule], [11, 12, ifRule], [13, 15, ifRule], [16, 18, ifRule], [19, 20, ifRule], [21, undefined, ifRule]),
  ...rules('Loop', [7, 10, loopRule], [11, 12, loopRule], [13, 15, loopRule], [16, 18, loopRule], [19, 20, loopRule], [21, undefined, loopRule]),
  ...rules('Scan', [8, 8, scan8Rule], [9, 10, scanRule], [11, 15, scanRule], [16, 18, scanRule], [19, 20, scanRule], [21, undefined, scanRule]),
];
