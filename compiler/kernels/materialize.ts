// Materialize: a constant's logical value, dense and row-major, from its stored form (ir/storage.ts is the
// reference): element (r, c) is read where its layout puts it (row-major, transposed, blocked), and a quant code
// becomes scale * (q - zero), or scale * (2q - (2^bits - 1)) for bipolar codes, with the scale (and zero point) of
// its group. One invocation per output storage word (storeEachElement), arithmetic in f32 as the reference's
// double rounded once to the output dtype (the scale times an exact small integer is one f32 rounding).
import type { DType } from '../../ir/dtype.js';
import { layoutMatrix } from '../../ir/layout.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, and, convert, lit, mul, shl, shr, sub } from '../wgsl/dsl.js';
import { ceilDiv, divC, fromCompute, modC, storeEachElement, toF32 } from './lib/index.js';

export type StoredLayout =
  | { readonly kind: 'row-major' }
  | { readonly kind: 'transposed' }
  | { readonly kind: 'blocked'; readonly tile: readonly [number, number]; readonly order: 'row' | 'col' };

export interface MaterializeQuant {
  readonly bits: number;
  readonly scheme: 'signed' | 'unsigned' | 'bipolar';
  readonly group: number;
  readonly axis: number;
  readonly packing: 'planes' | 'packed';
  readonly scales: { readonly dtype: DType; readonly shape: readonly number[] };
  readonly zeros?: { readonly dtype: DType; readonly shape: readonly number[] };
}

export interface MaterializeSpec extends KernelSpecBase {
  readonly kernel: 'materialize';
  /** The logical tensor. */
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly layout: StoredLayout;
  /** The stored tensor, as bound. */
  readonly stored: { readonly dtype: DType; readonly shape: readonly number[] };
  readonly quant?: MaterializeQuant;
  readonly workgroupSize: number;
}

/** Where logical element `flat` sits in storage (ir/layout.ts layoutOffset, as u32 arithmetic). */
function storedIndex(spec: MaterializeSpec, flat: Expr): Expr {
  const l = spec.layout;
  if (l.kind === 'row-major') return flat;
  const [rows, cols] = layoutMatrix(spec.shape);
  const r = divC(flat, cols);
  const c = modC(flat, cols);
  if (l.kind === 'transposed') return add(mul(c, lit.u32(rows)), r);
  const [a, b] = l.tile;
  const [br, bc] = [divC(r, a), divC(c, b)];
  const block = l.order === 'row' ? add(mul(br, lit.u32(ceilDiv(cols, b))), bc) : add(mul(bc, lit.u32(ceilDiv(rows, a))), br);
  return add(add(mul(block, lit.u32(a * b)), mul(modC(r, a), lit.u32(b))), modC(c, b));
}

export const materialize: KernelGen<MaterializeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const stored = k.input('stored', { dtype: spec.stored.dtype, shape: spec.stored.shape });
  const q = spec.quant;
  const scales = q && k.input('scales', q.scales);
  const zeros = q?.zeros && k.input('zeros', q.zeros);
  const out = k.output('out', { dtype: spec.dtype, shape: spec.shape });
  storeEachElement(k, out, (flat) => {
    const s = k.let('s', storedIndex(spec, flat));
    if (!q) return stored.load(s); // a layout alone: same dtype, moved
    let code: Expr;
    if (q.packing === 'packed') code = toF32(stored.load(s), stored.value);
    else {
      // Bit b of code s is bit (s % 32) of word b * words + s / 32; a signed code is sign-extended from `bits`.
      const words = spec.stored.shape[0]! / q.bits;
      let bitsU: Expr = lit.u32(0);
      for (let b = 0; b < q.bits; b++) bitsU = add(bitsU, shl(and(shr(stored.loadWord(add(lit.u32(b * words), shr(s, lit.u32(5)))), and(s, lit.u32(31))), lit.u32(1)), lit.u32(b)));
      code = q.scheme === 'signed' ? convert('f32', shr(shl(convert('i32', bitsU), lit.u32(32 - q.bits)), lit.u32(32 - q.bits))) : convert('f32', bitsU);
    }
    // The group of element `flat`: its coordinate along `axis` divided by the group size.
    const inner = spec.shape.slice(q.axis + 1).reduce((p, d) => p * d, 1);
    const along = spec.shape[q.axis]!;
    const groups = ceilDiv(along, q.group);
    const g = divC(modC(divC(flat, inner), along), q.group);
    const si = k.let('si', add(mul(add(mul(divC(flat, inner * along), lit.u32(groups)), g), lit.u32(inner)), modC(flat, inner)));
    const scale = toF32(scales!.load(si), scales!.value);
    const centred = q.scheme === 'bipolar' ? sub(mul(code, lit.f32(2)), lit.f32(2 ** q.bits - 1)) : zeros ? sub(code, toF32(zeros.load(si), zeros.value)) : code;
    return fromCompute(mul(scale, centred), out.value);
  });
  return k.finish();
};
