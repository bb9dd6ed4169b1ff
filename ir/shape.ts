// Shapes: static dims are numbers, symbolic dims are names ('batch', 'seq'). Symbols are declared on the graph
// with bounds and become uniforms in kernels, never recompiles.

export type Dim = number | string;
export type Shape = readonly Dim[];

export interface SymbolBound {
  readonly min: number;
  readonly max: number;
}

/**
 * The bounds a symbol gets when nobody bounded it (an ONNX dim_param without --dim): any size up to 65536. Compiling
 * narrows such symbols to what the target can hold (passes/fit-symbol-bounds.ts); explicit bounds are kept.
 */
export const UNBOUNDED_SYMBOL: SymbolBound = { min: 1, max: 65536 };

export const isStaticDim = (d: Dim): d is number => typeof d === 'number';
export const isStaticShape = (s: Shape): s is readonly number[] => s.every(isStaticDim);

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export const formatShape = (s: Shape): string => `[${s.join(',')}]`;

/** Numpy-style broadcast of several shapes; returns an error string when they are incompatible. */
export function broadcastShapes(shapes: readonly Shape[]): Dim[] | string {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (dim !== d) return `cannot broadcast shapes ${shapes.map(formatShape).join(' and ')} (dim ${i}: ${dim} vs ${d})`;
    }
    out.push(dim);
  }
  return out;
}

/** Normalise a possibly negative axis against a rank; returns undefined when out of range. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}
