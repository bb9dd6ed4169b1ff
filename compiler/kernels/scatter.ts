// ScatterElements and ScatterND, owner-computes: one invocation per output element (per storage word when the
// dtype is packed) starts from data and walks the updates that can land on it, in ONNX's order, applying each
// whose index matches. No two invocations write one element, so there are no atomics or races, the result is
// deterministic (with reduction 'none' the last duplicate wins, as in ONNX's reference) and any dtype works.
//   ScatterElements: only updates on the element's own line along `axis` can land on it: K = indices.shape[axis]
//     candidates (none if the element lies outside indices' extent on another axis).
//   ScatterND: element o lies in slice p = o / slice; each of the N index rows is compared with p.
// Cost: output elements × K (resp. × N × m); right for the small update sets models scatter (cache rows, masks).
// An index out of range (after counting negatives from the end) matches no element, so it is skipped: nothing is
// written out of bounds (the interpreter reports it as an error). Folds run in the compute type (f32 for floats,
// i32/u32 wrapping for integers, re-wrapped to sub-byte widths at the end); max/min propagate NaN like numpy.
import { type DType, dtypeInfo } from '../../ir/dtype.js';
import type { Reduction } from '../../ir/ops/index-util.js';
import { numel, strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import type { TensorAccessor } from '../wgsl/accessor.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, convert, eq, land, lit, lt, mul, mulConst, scalarType, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, computeScalar, divC, fromCompute, modC, normalizedIndex, pick, storeEachElement, toCompute, unflatten, wrapToDType } from './lib/index.js';

export interface ScatterSpec extends KernelSpecBase {
  readonly kernel: 'scatter';
  readonly form: 'elements' | 'nd';
  readonly data: TensorSpec;
  readonly indices: TensorSpec;
  readonly updates: TensorSpec;
  /** ScatterElements' axis (unused for ScatterND). */
  readonly axis: number;
  readonly reduction: Reduction;
  readonly workgroupSize: number;
}

/** acc <- reduction(acc, u) in the compute scalar. */
function fold(r: Reduction, scalar: Scalar, acc: Expr, u: Expr): Expr {
  switch (r) {
    case 'none':
      return u;
    case 'add':
      return add(acc, u);
    case 'mul':
      return mul(acc, u);
    default:
      return pick(r, scalar, acc, u);
  }
}

export const scatter: KernelGen<ScatterSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const data = k.input('data', spec.data);
  const indices = k.input('indices', spec.indices);
  const updates = k.input('updates', spec.updates);
  const out = k.output('out', spec.data);
  const dtype: DType = spec.data.dtype;
  const scalar = computeScalar(dtype);
  const type = scalarType(scalar);
  storeEachElement(k, out, (flat) => {
    const acc = k.var('acc', type, toCompute(data.load(flat), data.value));
    const apply = (at: Expr): void => k.assign(acc, fold(spec.reduction, scalar, acc, toCompute(updates.load(at), updates.value)));
    if (spec.form === 'elements') elementsCandidates(k, spec, indices, flat, apply);
    else ndCandidates(k, spec, indices, flat, apply);
    const wrapped = dtypeInfo(dtype).kind === 'int' ? wrapToDType(acc, dtype) : acc;
    return fromCompute(wrapped, out.value);
  });
  return k.finish();
};

/** ScatterElements: the updates on element `flat`'s line along the axis, applied where their index matches. */
function elementsCandidates(k: KernelBuilder, spec: ScatterSpec, indices: TensorAccessor, flat: Expr, apply: (at: Expr) => void): void {
  const shape = spec.data.shape;
  const ishape = spec.indices.shape;
  const is = strides(ishape);
  const { axis } = spec;
  const K = ishape[axis]!;
  if (numel(ishape) === 0) return;
  const c = unflatten(flat, shape).map((e, a) => (shape.length === 1 ? flat : k.let(`c${a}`, e)));
  // Indices may be smaller than data off the axis: elements outside their extent receive nothing.
  const inside = ishape.flatMap((d, a) => (a !== axis && d < shape[a]! ? [lt(c[a]!, lit.u32(d))] : []));
  const walk = (): void => {
    const base = k.let('base', sumU32(c.map((ca, a) => (a === axis ? lit.u32(0) : mulConst(ca, is[a]!)))));
    const pos = k.let('pos', convert('i32', c[axis]!));
    k.for('j', lit.u32(0), lit.u32(K), (j) => {
      const at = k.let('at', add(base, mulConst(j, is[axis]!)));
      const n = normalizedIndex(k, indices.load(at), shape[axis]!);
      // pos is in range, so an out-of-range index (normalized or not) never equals it.
      k.if(eq(n, pos), () => apply(at));
    });
  };
  if (inside.length) k.if(inside.reduce(land), walk);
  else walk();
}

/** ScatterND: every index row, applied where it addresses element `flat`'s slice. */
function ndCandidates(k: KernelBuilder, spec: ScatterSpec, indices: TensorAccessor, flat: Expr, apply: (at: Expr) => void): void {
  const shape = spec.data.shape;
  const m = spec.indices.shape[spec.indices.shape.length - 1]!;
  const rows = numel(spec.indices.shape.slice(0, -1));
  const slice = numel(shape.slice(m));
  if (rows === 0) return;
  const p = k.let('p', divC(flat, slice));
  const r = k.let('r', modC(flat, slice));
  const coords = m === 1 ? [p] : unflatten(p, shape.slice(0, m)).map((e, j) => k.let(`p${j}`, e));
  const want = coords.map((e, j) => k.let(`q${j}`, convert('i32', e)));
  k.for('n', lit.u32(0), lit.u32(rows), (n) => {
    // The row addresses slice p when every component (counted from the end if negative) is p's coordinate.
    const hits = want.map((q, j) => eq(normalizedIndex(k, indices.load(add(mulConst(n, m), lit.u32(j))), shape[j]!), q));
    k.if(hits.reduce(land), () => apply(add(mulConst(n, slice), r)));
  });
}
