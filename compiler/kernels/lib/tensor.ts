// Tensor specs as kernels take them (dtype and a static shape) and the size arithmetic kernels share: ceil-div,
// powers of two, the storage-binding limit.
import type { TensorType } from '../../../ir/types.js';
import type { TensorDesc } from '../../wgsl/accessor.js';
import { type DimContext, dimMax } from '../../wgsl/dims.js';
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { index } from '../../wgsl/dsl.js';

/** A tensor as a kernel spec holds it: its dtype and static shape (what KernelBuilder binds). */
export type TensorSpec = TensorDesc;

/** The spec of a graph value, which must have a static shape; `kernels` names the kernels in the error. */
export function staticTensor(t: TensorType, what: string, kernels: string): TensorSpec {
  const shape = t.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`${what} has symbolic shape [${t.shape.join(',')}]; ${kernels} need static shapes`);
    return d;
  });
  return { dtype: t.dtype, shape };
}

/**
 * The spec of a graph value with symbolic dims, for kernels that size themselves from the dims uniform: the
 * symbolic shape as `dims`, and `shape` at the symbols' upper bounds (what its binding holds at most).
 */
export function symbolicTensor(t: TensorType, cx: DimContext): TensorSpec {
  return { dtype: t.dtype, shape: t.shape.map((d) => dimMax(cx, d)), dims: [...t.shape] };
}

/** Most storage bindings a kernel may use (WebGPU's default maxStorageBuffersPerShaderStage). */
export const MAX_STORAGE_BINDINGS = 8;

/** ceil(a / b): how many blocks of b cover a (workgroups, tiles, words). */
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/** The smallest power of two at least n (1 for n <= 1). */
export const pow2ceil = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * A read-only f32 or f16 tensor bound as vec4s, read as vec4<f32> by group index (four consecutive elements; f16
 * widened, see KernelBuilder.vec4F16Input). The one way kernels read float tensors four at a time.
 */
export function vec4FloatInput(k: KernelBuilder, name: string, t: TensorSpec): (group: Expr) => Expr {
  if (t.dtype === 'f16') return k.vec4F16Input(name, t);
  const arr = k.vec4Input(name, t);
  return (group) => index(arr, group);
}
