// RoiAlign: one invocation per output element (region, channel, bin), per storage word for packed outputs. It
// reads its region and batch index, derives the bin and its sampling grid as ir/ops/roi-align.ts does (with
// sampling_ratio 0 the grid size is computed from the region at run time, so those loops have run-time bounds)
// and averages, or takes the max of, the bilinear samples in f32. A batch index outside the input is clamped to
// it, so the kernel never reads out of bounds; the interpreter rejects such an index.
import type { RoiAlignAttrs } from '../../ir/ops/roi-align.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, builtin, call, convert, div, ge, gt, lit, lor, lt, mod, mul, mulConst, not, select, sub } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, opaqueOne, storeEachElement, toF32 } from './lib/index.js';

export interface RoiAlignSpec extends KernelSpecBase, RoiAlignAttrs {
  readonly kernel: 'roi-align';
  readonly input: TensorSpec;
  readonly rois: TensorSpec;
  readonly batchIndices: TensorSpec;
  readonly output: TensorSpec;
  readonly workgroupSize: number;
}

const u = lit.u32;
const f = lit.f32;

export const roiAlign: KernelGen<RoiAlignSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.input);
  const rois = k.input('rois', spec.rois);
  const idx = k.input('batch', spec.batchIndices);
  const out = k.output('y', spec.output);
  const [batch, channels, height, width] = spec.input.shape as [number, number, number, number];
  const { outH, outW } = spec;

  const valueAt = (flat: Expr): Expr => {
    const pw = k.let('pw', mod(flat, u(outW)));
    const ph = k.let('ph', mod(div(flat, u(outW)), u(outH)));
    const rc = k.let('rc', div(flat, u(outW * outH)));
    const r = k.let('r', div(rc, u(channels)));
    const b = k.let('b', convert('u32', builtin('clamp', idx.load(r), lit.i32(0), lit.i32(batch - 1))));
    const base = k.let('base', mulConst(add(mulConst(b, channels), mod(rc, u(channels))), height * width));
    const corner = (i: number): Expr =>
      k.let(`q${i}`, sub(mul(toF32(rois.load(add(mulConst(r, 4), u(i))), rois.value), f(spec.spatialScale)), f(spec.halfPixel ? 0.5 : 0)));
    const [x1, y1, x2, y2] = [0, 1, 2, 3].map(corner) as [Expr, Expr, Expr, Expr];
    const span = (lo: Expr, hi: Expr): Expr => (spec.halfPixel ? sub(hi, lo) : builtin('max', sub(hi, lo), f(1)));
    const rw = k.let('rw', span(x1, x2));
    const rh = k.let('rh', span(y1, y2));
    const bh = k.let('bh', div(rh, f(outH)));
    const bw = k.let('bw', div(rw, f(outW)));
    // Points per bin along each axis: fixed, or ceil(region / output) computed here (none when not positive).
    const grid = (extent: Expr, outSize: number, name: string): Expr =>
      // A fixed count times an opaque 1, so lavapipe's LLVM does not unroll the sampling loops.
      spec.samplingRatio > 0 ? k.let(name, mul(u(spec.samplingRatio), opaqueOne(k))) : k.let(name, convert('u32', builtin('max', convert('i32', builtin('ceil', div(extent, f(outSize)))), lit.i32(0))));
    const gh = grid(rh, outH, 'gh');
    const gw = grid(rw, outW, 'gw');
    const acc = k.var('acc', T.f32, f(0));
    const first = spec.max ? k.var('first', T.bool, lit.bool(true)) : undefined;
    k.for('iy', u(0), gh, (iy) => {
      const y0 = k.let('y0', add(add(y1, mul(convert('f32', ph), bh)), div(mul(add(convert('f32', iy), f(0.5)), bh), convert('f32', gh))));
      k.for('ix', u(0), gw, (ix) => {
        const x0 = k.let('x0', add(add(x1, mul(convert('f32', pw), bw)), div(mul(add(convert('f32', ix), f(0.5)), bw), convert('f32', gw))));
        const val = k.var('val', T.f32, f(0));
        const outside = lor(lor(lt(y0, f(-1)), gt(y0, f(height))), lor(lt(x0, f(-1)), gt(x0, f(width))));
        k.if(not(outside), () => {
          // Clamp to the image; at (or past) the last row/column both corners are that row/column.
          const axis = (v: Expr, len: number, n: string): { lo: Expr; hi: Expr; frac: Expr } => {
            const c = k.let(`${n}c`, builtin('max', v, f(0)));
            const lo0 = k.let(`${n}l`, builtin('floor', c));
            const last = ge(lo0, f(len - 1));
            const lo = k.let(`${n}lo`, convert('u32', select(last, f(len - 1), lo0)));
            const hi = k.let(`${n}hi`, select(last, u(len - 1), add(lo, u(1))));
            return { lo, hi, frac: k.let(`${n}f`, select(last, f(0), sub(c, lo0))) };
          };
          const yy = axis(y0, height, 'y');
          const xx = axis(x0, width, 'x');
          const at = (row: Expr, col: Expr): Expr => toF32(x.load(add(base, add(mulConst(row, width), col))), x.value);
          const [hy, hx] = [sub(f(1), yy.frac), sub(f(1), xx.frac)];
          const terms = [
            mul(mul(hy, hx), at(yy.lo, xx.lo)),
            mul(mul(hy, xx.frac), at(yy.lo, xx.hi)),
            mul(mul(yy.frac, hx), at(yy.hi, xx.lo)),
            mul(mul(yy.frac, xx.frac), at(yy.hi, xx.hi)),
          ].map((t, i) => k.let(`v${i}`, t));
          const pick = (a: Expr, c: Expr): Expr => call('kiln_max', a, c);
          k.assign(val, spec.max ? terms.reduce(pick) : terms.reduce(add));
        });
        if (first) {
          k.assign(acc, select(first, val, call('kiln_max', acc, val)));
          k.assign(first, lit.bool(false));
        } else k.assign(acc, add(acc, val));
      });
    });
    const result = spec.max ? acc : div(acc, convert('f32', builtin('max', mul(gh, gw), u(1))));
    return fromCompute(result, out.value);
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
