// Layouts: the order in which a tensor's elements sit in storage. The logical tensor (what ops compute with) is
// the same whatever the layout; the interpreter decodes a laid-out constant to it before any op reads it.
//   row-major                     the default: the last axis fastest
//   transposed                    a 2-D tensor stored as its transpose ([K,N] stored as [N,K]: a Linear weight)
//   blocked(tile=[a,b], order=o)  a matrix cut into a x b blocks, each block row-major, blocks in row order
//                                 (block row outer) or col order (block column outer: papers.md §4's weights);
//                                 ragged edges padded with zeros, so storage is blocks * a * b elements. A tensor
//                                 of higher rank is blocked as its matrix [d0, d1 * ... * dn] (a conv weight
//                                 [M, C, kh, kw] as [M, C*kh*kw], the implicit GEMM's A).
// A layout is plain data with typed parameters; `layoutProblems` states what a tensor must be to carry it.
import { type Shape, numel } from './shape.js';

export type Layout =
  | { readonly kind: 'row-major'; readonly params: Readonly<Record<string, never>> }
  | { readonly kind: 'transposed'; readonly params: Readonly<Record<string, never>> }
  | { readonly kind: 'blocked'; readonly params: { readonly tile: readonly [number, number]; readonly order: 'row' | 'col' } };

export type LayoutKind = Layout['kind'];
export const LAYOUT_KINDS: readonly LayoutKind[] = ['row-major', 'transposed', 'blocked'];

export const ROW_MAJOR: Layout = Object.freeze({ kind: 'row-major', params: Object.freeze({}) });
export const TRANSPOSED: Layout = Object.freeze({ kind: 'transposed', params: Object.freeze({}) });
export const blocked = (tile: readonly [number, number], order: 'row' | 'col' = 'row'): Layout => ({ kind: 'blocked', params: { tile: [tile[0], tile[1]], order } });

export const formatLayout = (l: Layout): string =>
  l.kind === 'blocked' ? `blocked(order=${l.params.order},tile=[${l.params.tile.join(',')}])` : l.kind;

/** The matrix a laid-out tensor is: [d0, d1 * ... * dn] (itself for a 2-D tensor). */
export const layoutMatrix = (shape: readonly number[]): [number, number] => [shape[0]!, numel(shape.slice(1))];

/** What is wrong with laying out a tensor of this shape so; empty when nothing is. */
export function layoutProblems(l: Layout, shape: Shape): string[] {
  if (l.kind === 'row-major') return [];
  if (l.kind === 'transposed' && shape.length !== 2) return [`layout ${l.kind} needs a 2-D tensor, got rank ${shape.length}`];
  if (shape.length < 2) return [`layout ${l.kind} needs a tensor of rank 2 or more, got rank ${shape.length}`];
  if (l.kind === 'blocked') {
    const [a, b] = l.params.tile;
    if (![a, b].every((t) => Number.isInteger(t) && t >= 1)) return [`blocked tile must be two integers >= 1, got [${l.params.tile.join(',')}]`];
  }
  return [];
}

/** Storage element count: the logical count, plus the zero padding of ragged blocks. */
export function layoutElements(l: Layout, shape: readonly number[]): number {
  if (l.kind !== 'blocked') return numel(shape);
  const [a, b] = l.params.tile;
  const [rows, cols] = layoutMatrix(shape);
  return Math.ceil(rows / a) * Math.ceil(cols / b) * a * b;
}

/** The storage shape: the logical one for row-major, swapped for transposed, [elements] for blocked. */
export function layoutStorageShape(l: Layout, shape: readonly number[]): number[] {
  if (l.kind === 'transposed') return [shape[1]!, shape[0]!];
  if (l.kind === 'blocked') return [layoutElements(l, shape)];
  return [...shape];
}

/**
 * Where logical element (r, c) of a [rows, cols] tensor (layoutMatrix) sits in storage. Row-major is r * cols + c; the others
 * per the header. One function so that encoders, decoders and kernels' generators agree.
 */
export function layoutOffset(l: Layout, rows: number, cols: number, r: number, c: number): number {
  if (l.kind === 'transposed') return c * rows + r;
  if (l.kind === 'blocked') {
    const [a, b] = l.params.tile;
    const [br, bc] = [Math.floor(r / a), Math.floor(c / b)];
    const block = l.params.order === 'row' ? br * Math.ceil(cols / b) + bc : bc * Math.ceil(rows / a) + br;
    return block * a * b + (r % a) * b + (c % b);
  }
  return r * cols + c;
}

/**
 * The inverse of layoutOffset: the logical row-major index of storage element `s` of a [rows, cols] tensor, or -1
 * for a ragged block's zero padding. Lets a packer write storage order while reading the logical tensor.
 */
export function layoutSource(l: Layout, rows: number, cols: number, s: number): number {
  if (l.kind === 'transposed') return (s % rows) * cols + Math.floor(s / rows);
  if (l.kind === 'blocked') {
    const [a, b] = l.params.tile;
    const block = Math.floor(s / (a * b));
    const within = s % (a * b);
    const [blockRows, blockCols] = [Math.ceil(rows / a), Math.ceil(cols / b)];
    const [br, bc] = l.params.order === 'row' ? [Math.floor(block / blockCols), block % blockCols] : [block % blockRows, Math.floor(block / blockRows)];
    const [r, c] = [br * a + Math.floor(within / b), bc * b + (within % b)];
    return r < rows && c < cols ? r * cols + c : -1;
  }
  return s;
}

/** Logical row-major values from storage order (padding dropped). */
export function fromLayout(l: Layout, shape: readonly number[], stored: ArrayLike<number>): Float64Array {
  if (l.kind === 'row-major') return Float64Array.from(stored);
  const [rows, cols] = layoutMatrix(shape);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = stored[layoutOffset(l, rows, cols, r, c)]!;
  return out;
}

/** Storage order from logical row-major values (padding zero). */
export function toLayout(l: Layout, shape: readonly number[], logical: ArrayLike<number>): Float64Array {
  if (l.kind === 'row-major') return Float64Array.from(logical);
  const [rows, cols] = layoutMatrix(shape);
  const out = new Float64Array(layoutElements(l, shape));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[layoutOffset(l, rows, cols, r, c)] = logical[r * cols + c]!;
  return out;
}
