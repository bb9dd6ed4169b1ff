// One invocation per storage word of an output, so kernels that compute each output element independently work
// for every dtype: an unpacked tensor stores its element directly; a packed one (f16 without shader-f16, bf16,
// sub-byte ints) assembles all the lanes of its word in one invocation, so no two invocations share a word.
import type { TensorAccessor } from '../../wgsl/accessor.js';
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { lt } from '../../wgsl/dsl.js';

/**
 * Dispatch over `out`'s words and write element `flat` as `valueAt(flat)` (of the accessor's value type).
 * `valueAt` may emit statements; it runs inside the bounds check (and, for packed outputs, the lane loop).
 */
export function storeEachElement(k: KernelBuilder, out: TensorAccessor, valueAt: (flat: Expr) => Expr): void {
  // A symbolic output (unpacked) covers its run-time size: dispatch and bound both come from the dims uniform.
  const words = out.wordsDim;
  const w = k.globalIndexDim(words);
  k.if(lt(w, k.dim(words)), () => {
    if (out.packed) out.storeLanes(w, valueAt);
    else out.store(w, valueAt(w));
  });
}
