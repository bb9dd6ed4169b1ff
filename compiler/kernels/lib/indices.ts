// Index tensors as the indexing kernels read them (gather-nd, scatter, tensor-scatter, reverse-sequence, onehot):
// an i32 element naming a position along an axis of `len`, negative counting from the end as ONNX defines it.
// What happens out of range (clamp or skip) is each kernel's documented choice; none reads or writes past a tensor.
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { add, builtin, convert, lit, lt, select } from '../../wgsl/dsl.js';

/** The i32 position index `v` names along an axis of `len` (v + len when negative); may still be out of range. */
export function normalizedIndex(k: KernelBuilder, v: Expr, len: number): Expr {
  const i = k.let('ix', v);
  return k.let('nx', select(lt(i, lit.i32(0)), add(i, lit.i32(len)), i));
}

/** A normalized i32 index clamped into 0..len-1, as a u32 offset (len >= 1). */
export const clampedIndex = (n: Expr, len: number): Expr => convert('u32', builtin('clamp', n, lit.i32(0), lit.i32(len - 1)));
