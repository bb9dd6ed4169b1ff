// Scalar conversions shared by kernels, matching ir/dtype.ts roundToDType exactly:
//   * every float dtype computes as f32 (f16 and bf16 are widened on load and rounded, to nearest even, on store);
//   * i32 and signed sub-byte ints compute as i32, u32 and unsigned sub-byte as u32, bool as bool;
//   * sub-byte results wrap two's-complement to their width; Cast float->int truncates toward zero, maps NaN to 0,
//     saturates ±inf and wraps finite values modulo 2^bits; Cast to bool is x != 0 (NaN is true).
import { type DType, dtypeInfo, intRange, isSubByte } from '../../../ir/dtype.js';
import type { Expr, Scalar } from '../../wgsl/ast.js';
import { and, bitcast, call, convert, eq, gt, lit, ne, select, shl, shr } from '../../wgsl/dsl.js';

/** The WGSL scalar an element of `dt` is computed as. */
export function computeScalar(dt: DType): Scalar {
  const info = dtypeInfo(dt);
  if (info.kind === 'float') return 'f32';
  if (info.kind === 'bool') return 'bool';
  if (dt === 'i64') throw new Error('i64 has no kernel representation');
  return info.signed ? 'i32' : 'u32';
}

/** The dtype partial results (sums, extremes) are held in: f32 for floats, i32/u32 for integers. */
export function accDtype(dt: DType): 'f32' | 'i32' | 'u32' {
  const info = dtypeInfo(dt);
  if (info.kind === 'float') return 'f32';
  if (info.kind !== 'int' || dt === 'i64') throw new Error(`no reduction kernel for dtype ${dt}`);
  return info.signed ? 'i32' : 'u32';
}

/** A loaded value (of an accessor's value type) widened to the compute scalar. */
export function toCompute(e: Expr, valueType: Scalar): Expr {
  return valueType === 'f16' ? convert('f32', e) : e;
}

/** A loaded value (of an accessor's value type) as f32, whatever its dtype (integers converted). */
export function toF32(e: Expr, valueType: Scalar): Expr {
  return valueType === 'f32' ? e : convert('f32', e);
}

/**
 * A compute-scalar result given as an accessor's `valueType` (f32 -> f16 rounds to nearest even). Integer results
 * must already be wrapped to their dtype (wrapToDType).
 */
export function fromCompute(e: Expr, valueType: Scalar): Expr {
  return valueType === 'f16' ? call('kiln_to_f16', e) : e;
}

/** Re-wrap an i32/u32 compute value to a sub-byte dtype's width (identity for other dtypes). */
export function wrapToDType(e: Expr, dt: DType): Expr {
  if (!isSubByte(dt)) return e;
  const { bits, signed } = dtypeInfo(dt);
  if (signed) return shr(shl(e, lit.u32(32 - bits)), lit.u32(32 - bits));
  return and(e, lit.u32(2 ** bits - 1));
}

/** Bits of an f32 with the sign cleared. */
const magnitudeBits = (x: Expr): Expr => and(bitcast('u32', x), lit.u32(0x7fffffff));

/** A u32 holding the low 32 bits of an integer value, wrapped to `to` (as its compute scalar). */
function fromWord(w: Expr, to: DType): Expr {
  const c = computeScalar(to);
  const v = c === 'i32' ? bitcast('i32', w) : w;
  return wrapToDType(v, to);
}

/** ONNX Cast of a compute value `x` of dtype `from` to dtype `to`, as `to`'s compute scalar. */
export function castExpr(x: Expr, from: DType, to: DType): Expr {
  const src = computeScalar(from);
  const dst = computeScalar(to);
  if (src === 'bool') return dst === 'bool' ? x : select(x, lit.of(dst, 1), lit.of(dst, 0));
  if (dst === 'bool') return src === 'f32' ? ne(magnitudeBits(x), lit.u32(0)) : ne(x, lit.of(src, 0));
  if (src === 'f32') {
    // Float to float: the store rounds to the target width.
    if (dst === 'f32') return x;
    // Float to int: saturate infinities, wrap finite values (NaN wraps to 0).
    const [lo, hi] = intRange(to);
    const isInf = eq(magnitudeBits(x), lit.u32(0x7f800000));
    return select(isInf, select(gt(x, lit.f32(0)), lit.of(dst, hi), lit.of(dst, lo)), fromWord(call('kiln_wrap_u32', x), to));
  }
  // From an integer.
  if (dst === 'f32') return convert('f32', x);
  const word = src === 'i32' ? bitcast('u32', x) : x;
  return fromWord(word, to);
}
