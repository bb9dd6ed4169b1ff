// The shape of the op mapping table (like onnxruntime's op-resolve-rules): one row per ONNX op and range of op
// versions, each a small function from the node to IR nodes. Rows name the versions they handle explicitly, so
// an op whose inputs or attributes changed (Reshape 5 vs 14, Split 11/13/18, Clip 6 vs 11) has one row per form.
// Helpers shared by the rows live here too.
import type { AttrValue, Attrs } from '../../graph.js';
import { lookupOp } from '../../op.js';
import type { NodeContext } from './context.js';
import { invalid, unsupported } from './errors.js';

export interface OpRule {
  /** ONNX op_type in the default domain. */
  readonly op: string;
  /** First and last opset version (inclusive) this row handles. */
  readonly since: number;
  readonly until: number;
  readonly map: (cx: NodeContext) => void;
}

/**
 * The last opset version kiln imports: the newest in ONNX's node tests (onnx/onnx @6be0677, 2026-08-04). What
 * changed after 26, and how the rows take it:
 *   27 (ONNX 1.22): CausalConvWithState and LinearAttention (new ops); Range-27 adds float16/bfloat16 to T, same
 *      semantics, so Range's 11+ row covers it.
 *   28 (in development at that commit): SwiGLU (new op); Celu-28 widens T to bfloat16/float16/double (kiln maps no
 *      Celu). Merged after that commit: ReduceLogSum/ReduceLogSumExp-28 only drop the integer types
 *      (onnx#8384); Attention gains left_window_size/right_window_size (onnx#8108), so its rows are cut at 27|28.
 * An op whose semantics change in a later opset needs its row cut before this number moves past that opset.
 */
export const MAX_OPSET = 28;
/** The first opset version kiln imports. */
export const MIN_OPSET = 7;

/** Rows for one op: [since, until | undefined (= the newest), map]. */
export function rules(op: string, ...rows: [number, number | undefined, (cx: NodeContext) => void][]): OpRule[] {
  return rows.map(([since, until, map]) => ({ op, since, until: until ?? MAX_OPSET, map }));
}

/**
 * Copy the node's ONNX attributes onto the IR op's attributes of the same name, reading each with the kind the IR
 * schema declares. `ignore` names ONNX attributes that the rule handles itself or that do not matter; any other
 * attribute the IR op does not know is an unsupported attribute (rather than silently dropped).
 */
export function passAttrs(cx: NodeContext, irOp: string, ignore: readonly string[] = []): Record<string, AttrValue> {
  const schema = lookupOp(irOp)?.attrs;
  if (!schema) return unsupported('op', `kiln has no ${irOp} op (yet), which ${cx.op} maps to`);
  const out: Record<string, AttrValue> = {};
  for (const name of cx.attrs.names()) {
    if (ignore.includes(name)) continue;
    const spec = Object.hasOwn(schema, name) ? schema[name] : undefined; // not Object.prototype's 'toString'
    if (!spec) return unsupported('attribute', `${cx.op} attribute '${name}' (kiln's ${irOp} has no such attribute)`);
    const v = readAttr(cx, name, spec.kind);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function readAttr(cx: NodeContext, name: string, kind: string): AttrValue | undefined {
  switch (kind) {
    case 'int':
      return cx.attrs.int(name);
    case 'float':
      return cx.attrs.float(name);
    case 'string':
      return cx.attrs.string(name);
    case 'ints':
      return cx.attrs.ints(name);
    case 'floats':
      return cx.attrs.floats(name);
    case 'strings':
      return cx.attrs.strings(name);
    default:
      return cx.attrs.int(name) === undefined ? undefined : cx.attrs.int(name)! !== 0;
  }
}

/**
 * `attrs` (copied from the node by passAttrs) as they are, or an error naming the attribute the IR op requires
 * and the node lacks: copied attributes are the model's own, so a missing one is the model's problem.
 */
export function requireAttrs(cx: NodeContext, irOp: string, attrs: Record<string, AttrValue>): Record<string, AttrValue> {
  for (const [name, spec] of Object.entries(lookupOp(irOp)?.attrs ?? {}))
    if (spec.required && attrs[name] === undefined) invalid(`${cx.op} needs attribute '${name}' (${spec.kind}), which the node does not set`);
  return attrs;
}

/** A rule that maps the op one-to-one onto the IR op of the same (or another) name, attributes copied. */
export function direct(irOp?: string, ignore: readonly string[] = []): (cx: NodeContext) => void {
  return (cx) => {
    const op = irOp ?? cx.op;
    cx.emitOutputs(op, cx.node.input, requireAttrs(cx, op, passAttrs(cx, op, ignore)));
  };
}

/** Fail when an optional output that kiln does not produce is used. */
export function rejectUsedOutputs(cx: NodeContext, from: number, what: string): void {
  for (let k = from; k < cx.outputCount; k++)
    if (cx.used(k)) unsupported('output', `${cx.op} output ${k} (${what}) is used; kiln computes only ${cx.op}'s first output`);
}

/** Clamp an int64 shape value into the i32 range IR attributes hold (INT64_MAX ends mean "to the end"). */
export const clampI32 = (v: number): number => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, v));

/** Attrs with undefined entries dropped (so schema defaults apply). */
export function defined(attrs: Record<string, AttrValue | undefined>): Attrs {
  const out: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) out[k] = v;
  return out;
}
