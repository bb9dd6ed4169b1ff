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
 * Largest violation of |a-b| <= atol + rtol*|b|, b being the reference (0 when within tolerance). Special values
 * must be as the reference has them, or the result is Infinity:
 *   - NaN exactly where b is NaN, whatever its sign or payload;
 *   - the same infinity where b is infinite (and no infinity where b is finite);
 *   - with atol = 0, the same sign of zero where b is ±0. The tolerance around zero is then zero itself, so -0
 *     for +0 is as wrong as any other value there. With atol > 0 every value within atol of zero passes, of
 *     either sign and zero or not, so the sign of a zero result is below the comparison's resolution: callers
 *     that need it compare with atol = 0 (ops that round once, select or move values).
 * Subnormals are ordinary finite values: no flush-to-zero allowance (the adapters kiln is tested on preserve
 * them; see test/gpu/special-values.gpu.test.ts). Returns Infinity on a dtype or shape mismatch.
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
    if (atol === 0 && y === 0 && x === 0 && !Object.is(x, y)) return Infinity;
    worst = Math.max(worst, Math.abs(x - y) - (atol + rtol * Math.abs(y)));
  }
  return worst;
}
