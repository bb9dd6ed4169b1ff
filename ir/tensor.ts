// Concrete tensors for constants and the reference interpreter. Every element is held as a double, already
// rounded to its dtype (see roundToDType), so one representation serves f16, sub-byte integers and bool alike.
import { type DType, roundToDType } from './dtype.js';
import { numel } from './shape.js';

export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function makeTensor(dtype: DType, shape: readonly number[], values: ArrayLike<number> | ((i: number) => number)): Tensor {
  const n = numel(shape);
  const data = new Float64Array(n);
  if (typeof values === 'function') {
    for (let i = 0; i < n; i++) data[i] = roundToDType(values(i), dtype);
  } else {
    if (values.length !== n) throw new Error(`tensor of shape [${shape.join(',')}] needs ${n} values, got ${values.length}`);
    for (let i = 0; i < n; i++) data[i] = roundToDType(values[i]!, dtype);
  }
  return { dtype, shape: [...shape], data };
}

export const scalarTensor = (dtype: DType, v: number): Tensor => makeTensor(dtype, [], [v]);

/** True when both tensors have the same dtype, shape and bit-identical values (NaN equals NaN). */
export function tensorsIdentical(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)) || x === y)) return false;
  }
  return true;
}

/**
 * Largest violation of |a-b| <= atol + rtol*|b| (0 when within tolerance); NaN/inf must match exactly.
 * Returns Infinity on a dtype or shape mismatch.
 */
export function toleranceExcess(a: Tensor, b: Tensor, rtol: number, atol: number): number {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      if (x !== y) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y) - (atol + rtol * Math.abs(y)));
  }
  return worst;
}
