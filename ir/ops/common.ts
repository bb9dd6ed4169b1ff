// Generic helpers shared by op definitions: arity checks, axis handling and broadcast index maps. Nothing here
// knows about a particular op; op-family specifics live next to the ops (and shape plumbing in shape-util.ts).
import { type AttrReader, OpError } from '../op.js';
import { type Dim, type Shape, broadcastShapes, formatShape, normalizeAxis, shapesEqual } from '../shape.js';
import type { TensorType } from '../types.js';

/**
 * Check the input count and that inputs [0, required) are present; returns the present types so callers can
 * index them without `!`. Optional trailing inputs past `required` stay possibly undefined.
 */
export function checkInputs(
  op: string,
  inputs: readonly (TensorType | undefined)[],
  required: number,
  max: number = required,
): (TensorType | undefined)[] {
  if (inputs.length < required || inputs.length > max) {
    const want = required === max ? `${required}` : max === Infinity ? `at least ${required}` : `${required} to ${max}`;
    throw new OpError(`${op} takes ${want} input${/\b1$/.test(want) ? '' : 's'}, got ${inputs.length}`);
  }
  for (let i = 0; i < required; i++) if (!inputs[i]) throw new OpError(`${op} needs input ${i}, which was omitted`);
  return [...inputs];
}

/** Normalise an axis attribute (negative counts from the end) or throw naming the valid range. */
export function resolveAxis(op: string, axis: number, rank: number, attr = 'axis'): number {
  const a = normalizeAxis(axis, rank);
  if (a === undefined) {
    const range = rank === 0 ? 'none, the input is a scalar' : `${-rank}..${rank - 1}`;
    throw new OpError(`${op}: ${attr} ${axis} is out of range for rank ${rank} (expected ${range})`);
  }
  return a;
}

/** Normalise a list of axes; sorted ascending, duplicates (after normalisation) rejected. */
export function resolveAxes(op: string, axes: readonly number[], rank: number, attr = 'axes'): number[] {
  const out = axes.map((a) => resolveAxis(op, a, rank, attr)).sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++)
    if (out[i] === out[i - 1]) throw new OpError(`${op}: ${attr} [${axes.join(',')}] names axis ${out[i]} twice`);
  return out;
}

/** Read an int attribute that is a 0/1 flag (ONNX's keepdims and friends). */
export function flagAttr(op: string, attrs: AttrReader, name: string): boolean {
  const v = attrs.int(name);
  if (v !== 0 && v !== 1) throw new OpError(`${op}: ${name} must be 0 or 1, got ${v}`);
  return v === 1;
}

/** Broadcast shapes or throw the incompatibility as an OpError for `op`. */
export function broadcastOrThrow(op: string, shapes: readonly Shape[]): Dim[] {
  const r = broadcastShapes(shapes);
  if (typeof r === 'string') throw new OpError(`${op}: ${r}`);
  return r;
}

/**
 * Check that `from` broadcasts to `to` without changing it (ONNX "unidirectional" broadcasting, as for
 * LayerNormalization's Scale against the normalised shape).
 */
export function checkBroadcastsTo(op: string, what: string, from: Shape, to: Shape): void {
  const r = broadcastShapes([to, from]);
  if (typeof r === 'string' || !shapesEqual(r, to))
    throw new OpError(`${op}: ${what} of shape ${formatShape(from)} does not broadcast to ${formatShape(to)}`);
}

/**
 * For each element of `to` (row-major), the flat offset of the element of `from` that broadcasts onto it.
 * `from` must broadcast to `to`. Also maps an input element to its reduction slot: pass the keepdims shape
 * (reduced axes set to 1) as `from` and the input shape as `to`.
 */
export function broadcastOffsets(from: readonly number[], to: readonly number[]): Uint32Array {
  const rank = to.length;
  const pad = rank - from.length;
  // Strides of `from` aligned to `to`'s axes, 0 where `from` is broadcast (missing or size 1).
  const bstride = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = from.length - 1; i >= 0; i--) {
    if (from[i] !== 1) bstride[i + pad] = s;
    s *= from[i]!;
  }
  let n = 1;
  for (const d of to) n *= d;
  const out = new Uint32Array(n);
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let k = 0; k < n; k++) {
    out[k] = off;
    // Odometer increment: bump the last axis, carrying into earlier ones.
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]!++;
      off += bstride[a]!;
      if (idx[a]! < to[a]!) break;
      off -= bstride[a]! * idx[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** Sizes around one axis of a static shape: elements before it, along it, and after it. */
export function splitAtAxis(shape: readonly number[], axis: number): { outer: number; len: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, len: shape[axis]!, inner };
}

/** The static dims of a type that reference code received concrete tensors for; symbolic dims are a bug there. */
export function staticShape(t: TensorType): number[] {
  return t.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`expected a static shape, got ${formatShape(t.shape)}`);
    return d;
  });
}
