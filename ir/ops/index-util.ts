// What the indexing ops (GatherElements, GatherND, the scatters, TensorScatter, ReverseSequence) share: the index
// dtype check, the ONNX rule for one index (negative counts from the end; anything else out of range is the
// model's bug, reported with where it sits), dim checks on possibly symbolic shapes, and the scatter reductions.
import { type DType, dtypeInfo, isFloat } from '../dtype.js';
import { type AttrReader, OpError } from '../op.js';
import { type Dim, formatShape } from '../shape.js';
import type { TensorType } from '../types.js';

/** Index tensors are i32 (i64 only as an import-time constant, narrowed before it reaches a kernel). */
export function requireIndices(op: string, t: TensorType, what = 'indices'): void {
  if (t.dtype !== 'i32' && t.dtype !== 'i64') throw new OpError(`${op}: ${what} must be i32 or i64, got ${t.dtype}`);
}

/** Index `v` into an axis of `len` elements, negative counting from the end; `where` says which index it was. */
export function resolveIndex(op: string, v: number, len: number, where: () => string): number {
  const n = v < 0 ? v + len : v;
  if (!(n >= 0 && n < len)) throw new OpError(`${op}: index ${v} ${where()} is out of range for an axis of size ${len} (expected ${-len}..${len - 1})`);
  return n;
}

/** Two dims that must agree when both are known. */
export function sameDim(op: string, a: Dim, b: Dim, what: string): void {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) throw new OpError(`${op}: ${what} (${a} vs ${b})`);
}

/** `small` may not exceed `big` (when both are known). */
export function notLarger(op: string, small: Dim, big: Dim, what: string): void {
  if (typeof small === 'number' && typeof big === 'number' && small > big) throw new OpError(`${op}: ${what} (${small} > ${big})`);
}

/** The static size of a dim the op needs at compile time. */
export function staticDim(op: string, shape: readonly Dim[], axis: number, what: string): number {
  const d = shape[axis];
  if (typeof d !== 'number') throw new OpError(`${op} needs static shape: ${what} (axis ${axis} of ${formatShape(shape)}) is symbolic`);
  return d;
}

// ---------------------------------------------------------------------------------------------------------
// Scatter reductions

export const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'] as const;
export type Reduction = (typeof REDUCTIONS)[number];

export function readReduction(op: string, attrs: AttrReader, dtype: DType): Reduction {
  const r = attrs.string('reduction');
  if (!(REDUCTIONS as readonly string[]).includes(r)) throw new OpError(`${op}: reduction must be one of ${REDUCTIONS.join(', ')}, got '${r}'`);
  if (r !== 'none' && dtypeInfo(dtype).kind === 'bool') throw new OpError(`${op}: reduction '${r}' needs a numeric dtype, got bool`);
  return r as Reduction;
}

/**
 * One reduction step as the interpreter takes it: float64 for floats (rounded once at the end), and for integers
 * the exact low bits (Math.imul: a 32-bit product can exceed 2^53). max/min propagate NaN, as numpy does.
 */
export function reductionStep(r: Reduction, dtype: DType): (acc: number, u: number) => number {
  switch (r) {
    case 'none':
      return (_acc, u) => u;
    case 'add':
      return (acc, u) => acc + u;
    case 'mul':
      return isFloat(dtype) ? (acc, u) => acc * u : Math.imul;
    case 'max':
      return Math.max;
    case 'min':
      return Math.min;
  }
}
