// DeformConv (2-D): one invocation per output element (per storage word for packed outputs). For each input
// channel of its group and each kernel tap it reads the tap's offset (and mask), samples X bilinearly at the
// shifted position with zeros outside, and accumulates W * mask * sample in f32, starting from the bias.
// Geometry from ir/ops/deform-conv.ts.
import type { DeformGeometry } from '../../ir/ops/deform-conv.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, builtin, convert, div, ge, land, lit, lt, mod, mul, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, opaqueOne, storeEachElement, toF32 } from './lib/index.js';

export interface DeformConvSpec extends KernelSpecBase, DeformGeometry {
  readonly kernel: 'deform-conv';
  readonly input: TensorSpec;
  readonly weight: TensorSpec;
  readonly offset: TensorSpec;
  readonly bias?: TensorSpec;
  readonly mask?: TensorSpec;
  readonly output: TensorSpec;
  readonly workgroupSize: number;
}

const u = lit.u32;
const f = lit.f32;

export const deformConv: KernelGen<DeformConvSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.input);
  const w = k.input('w', spec.weight);
  const offset = k.input('offset', spec.offset);
  const bias = spec.bias && k.input('bias', spec.bias);
  const mask = spec.mask && k.input('mask', spec.mask);
  const out = k.output('y', spec.output);
  const [, channels, height, width] = spec.input.shape as [number, number, number, number];
  const [, oc, oh, ow] = spec.output.shape as [number, number, number, number];
  const [kh, kw] = spec.kernelShape;
  const [cg, ocg, cog] = [channels / spec.group, oc / spec.group, channels / spec.offsetGroup];
  const outPlane = oh * ow;
  const load = (t: NonNullable<typeof bias>, at: Expr): Expr => toF32(t.load(at), t.value);

  const valueAt = (flat: Expr): Expr => {
    const pix = k.let('pix', mod(flat, u(outPlane)));
    const no = k.let('no', div(flat, u(outPlane)));
    const o = k.let('o', mod(no, u(oc)));
    const n = k.let('n', div(no, u(oc)));
    const [i, j] = [k.let('i', div(pix, u(ow))), k.let('j', mod(pix, u(ow)))];
    const acc = k.var('acc', T.f32, bias ? load(bias, o) : f(0));
    // Per-channel plane offsets of the offset and mask tensors for this (n, pixel).
    const offBase = k.let('offbase', add(mulConst(n, spec.offset.shape[1]! * outPlane), pix));
    const maskBase = mask && k.let('maskbase', add(mulConst(n, spec.mask!.shape[1]! * outPlane), pix));
    const y0 = k.let('y0', convert('f32', sub(convert('i32', mulConst(i, spec.strides[0])), lit.i32(spec.pads[0]))));
    const x0 = k.let('x0', convert('f32', sub(convert('i32', mulConst(j, spec.strides[1])), lit.i32(spec.pads[1]))));
    // Loop bounds times an opaque 1: lavapipe's LLVM otherwise unrolls the whole constant-trip nest (seconds of
    // shader compilation for a 3x3 kernel).
    const one = opaqueOne(k);
    const bound = (v: number): Expr => mul(u(v), one);
    k.for('ci', u(0), bound(cg), (ci) => {
      const ic = k.let('ic', add(mulConst(div(o, u(ocg)), cg), ci));
      const og = k.let('og', div(ic, u(cog)));
      const xBase = k.let('xbase', mulConst(add(mulConst(n, channels), ic), height * width));
      k.for('a', u(0), bound(kh), (a) => {
        k.for('b', u(0), bound(kw), (b) => {
          const tap = k.let('tap', add(mulConst(add(mulConst(og, kh), a), kw), b));
          const dy = load(offset, add(offBase, mulConst(mulConst(tap, 2), outPlane)));
          const dx = load(offset, add(offBase, mulConst(add(mulConst(tap, 2), u(1)), outPlane)));
          const y = k.let('y', add(add(y0, convert('f32', mulConst(a, spec.dilations[0]))), dy));
          const x1 = k.let('x', add(add(x0, convert('f32', mulConst(b, spec.dilations[1]))), dx));
          const [fy, fx] = [k.let('fy', builtin('floor', y)), k.let('fx', builtin('floor', x1))];
          const [ly, lx] = [k.let('ly', sub(y, fy)), k.let('lx', sub(x1, fx))];
          const [iy, ix] = [k.let('iy', convert('i32', fy)), k.let('ix', convert('i32', fx))];
          const sample = k.var('sample', T.f32, f(0));
          for (const [ddy, wy] of [[0, sub(f(1), ly)], [1, ly]] as const)
            for (const [ddx, wx] of [[0, sub(f(1), lx)], [1, lx]] as const) {
              const [yy, xx] = [add(iy, lit.i32(ddy)), add(ix, lit.i32(ddx))];
              const inside = land(land(ge(yy, lit.i32(0)), lt(yy, lit.i32(height))), land(ge(xx, lit.i32(0)), lt(xx, lit.i32(width))));
              k.if(inside, () => {
                const at = sumU32([xBase, mulConst(convert('u32', yy), width), convert('u32', xx)]);
                k.assign(sample, add(sample, mul(mul(wy, wx), toF32(x.load(at), x.value))));
              });
            }
          const weight = load(w, add(mulConst(add(mulConst(add(mulConst(o, cg), ci), kh), a), kw), b));
          const scaled = mask && maskBase ? mul(weight, load(mask, add(maskBase, mulConst(tap, outPlane)))) : weight;
          k.assign(acc, add(acc, mul(scaled, sample)));
        });
      });
    });
    return fromCompute(acc, out.value);
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
