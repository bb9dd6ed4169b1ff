// Tensor <-> storage bytes, in exactly the layout kernels read and write (see wgsl/accessor.ts). The byte format
// itself lives in runtime/codec.ts, which the runtime needs on its own; this module only adapts it to the IR's
// Tensor (values held as doubles, already rounded to their dtype).
import type { DType } from '../ir/dtype.js';
import { numel } from '../ir/shape.js';
import { type Tensor, makeTensor } from '../ir/tensor.js';
import { byteLength, decode, encode } from '../runtime/codec.js';

export { bf16Bits, bf16FromBits, f16Bits, f16FromBits } from '../runtime/codec.js';

/**
 * The storage bytes of a tensor. `align4` pads the length up to a multiple of 4 (and at least 4), as GPU buffer
 * writes and bindings need; the padding is zero.
 */
export function encodeTensor(t: Tensor, opts: { align4?: boolean } = {}): Uint8Array {
  const bytes = encode(t.dtype, t.data, opts.align4 ? 4 : 0);
  return opts.align4 ? bytes : bytes.subarray(0, byteLength(t.dtype, t.data.length));
}

/** The tensor whose storage bytes are `bytes` (extra trailing bytes, e.g. padding, are ignored). */
export function decodeTensor(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  return makeTensor(dtype, shape, decode(dtype, bytes, numel(shape)));
}
