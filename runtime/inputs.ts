// Input values as numbers the codec encodes: BigInt64 data (int64 inputs) narrowed to the model's i32, checked.
import type { TypedArray } from './codec.js';
import { InputValidationError } from './errors.js';
import type { IOTensor } from './plan.js';

export function toNumbers(t: IOTensor, value: ArrayLike<number> | TypedArray | BigInt64Array): ArrayLike<number> {
  if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
    const out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = Number(value[i]!);
      if (t.dtype === 'i32' && (v | 0) !== v) // an integer outside -2^31..2^31-1
        throw new InputValidationError(`input ${t.name}: value ${value[i]} at index ${i} does not fit the model's i32 (declared ${t.declaredDtype ?? 'int64'})`);
      out[i] = v;
    }
    return out;
  }
  return value as ArrayLike<number>;
}
