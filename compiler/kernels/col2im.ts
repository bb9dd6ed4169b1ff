// Col2Im as a gather: one invocation per image element (per storage word for packed outputs) sums, over the
// block offsets in ascending order (the reference's order), the one column entry whose block covers it, if any:
// along each dim the block position q = (p + pad - offset * dilation) / stride must be whole and in range.
// Geometry from ir/ops/col2im.ts; sums in f32.
import type { Col2ImGeometry } from '../../ir/ops/col2im.js';
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, convert, div, eq, ge, land, lit, lt, mod, mul, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, opaqueOne, storeEachElement, toF32, unflatten } from './lib/index.js';

export interface Col2ImSpec extends KernelSpecBase, Col2ImGeometry {
  readonly kernel: 'col2im';
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  readonly workgroupSize: number;
}

const u = lit.u32;
const i32 = lit.i32;

export const col2im: KernelGen<Col2ImSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.input);
  const out = k.output('y', spec.output);
  const [plane, taps, positions] = [numel(spec.image), numel(spec.block), numel(spec.blocks)];
  const n = spec.image.length;

  const valueAt = (flat: Expr): Expr => {
    const nc = k.let('nc', div(flat, u(plane)));
    const p = unflatten(k.let('p', mod(flat, u(plane))), spec.image).map((e, d) => k.let(`p${d}`, convert('i32', e)));
    const acc = k.var('acc', T.f32, lit.f32(0));
    // The tap count times an opaque 1, so lavapipe's LLVM does not unroll the loop.
    k.for('kf', u(0), mul(u(taps), opaqueOne(k)), (kf) => {
      const offset = unflatten(kf, spec.block);
      const inside: Expr[] = [];
      const pos: Expr[] = [];
      for (let d = 0; d < n; d++) {
        const q = k.let(`q${d}`, sub(add(p[d]!, i32(spec.padsBegin[d]!)), mul(convert('i32', offset[d]!), i32(spec.dilations[d]!))));
        const s = spec.strides[d]!;
        inside.push(land(ge(q, i32(0)), lt(q, i32(spec.blocks[d]! * s))));
        if (s > 1) inside.push(eq(mod(q, i32(s)), i32(0)));
        pos.push(convert('u32', s > 1 ? div(q, i32(s)) : q));
      }
      k.if(inside.reduce(land), () => {
        // Row-major block position over spec.blocks.
        let l: Expr = pos[0]!;
        for (let d = 1; d < n; d++) l = add(mulConst(l, spec.blocks[d]!), pos[d]!);
        const at = sumU32([mulConst(add(mulConst(nc, taps), kf), positions), l]);
        k.assign(acc, add(acc, toF32(x.load(at), x.value)));
      });
    });
    return fromCompute(acc, out.value);
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
