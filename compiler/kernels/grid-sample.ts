// GridSample: one invocation per output element (per storage word for packed outputs). It reads its grid point,
// denormalises and pads each coordinate as ir/ops/grid-sample.ts does (nearest rounding half to even, border
// clamping, reflection folding at the borders), then sums the taps of the separable
// interpolation (1, 2 or 4 per dim) in f32, mapping each tap that leaves the input by the padding mode.
import { numel } from '../../ir/shape.js';
import type { GridMode, GridPadding } from '../../ir/ops/grid-sample.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { T, add, builtin, call, convert, div, eq, ge, gt, ident, land, le, lit, lor, lt, mod, mul, mulConst, select, sub, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, opaqueOne, storeEachElement, toF32 } from './lib/index.js';

export interface GridSampleSpec extends KernelSpecBase {
  readonly kernel: 'grid-sample';
  readonly input: TensorSpec;
  readonly grid: TensorSpec;
  readonly output: TensorSpec;
  readonly mode: GridMode;
  readonly padding: GridPadding;
  readonly alignCorners: boolean;
  readonly workgroupSize: number;
}

const u = lit.u32;
const f = lit.f32;

/** `fn gs_reflect(x, lo, hi) -> f32`: fold x into [lo, hi] (ir/ops/grid-sample.ts reflect). */
function reflectFn(k: KernelBuilder): string {
  const names = ['rx', 'rlo', 'rhi'].map((n) => k.fresh(n));
  const [x, lo, hi] = names.map(ident) as [Expr, Expr, Expr];
  const body = k.collect(() => {
    const span = k.let('span', sub(hi, lo));
    // A one-pixel axis with align_corners: every position is that pixel.
    k.if(le(span, f(0)), () => k.return(lo));
    k.if(land(ge(x, lo), ge(hi, x)), () => k.return(x));
    const below = k.let('below', lt(x, lo));
    const d = k.let('d', select(below, sub(lo, x), sub(x, hi)));
    const n = k.let('n', builtin('trunc', div(d, span)));
    const r = k.let('r', sub(d, mul(n, span)));
    const even = eq(sub(n, mul(f(2), builtin('floor', mul(n, f(0.5))))), f(0));
    k.return(select(eq(below, even), add(lo, r), sub(hi, r)));
  });
  return k.helper({ kind: 'fn', name: 'gs_reflect', params: names.map((name) => ({ name, type: T.f32 })), returns: T.f32, body });
}

export const gridSample: KernelGen<GridSampleSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.input);
  const grid = k.input('grid', spec.grid);
  const out = k.output('y', spec.output);
  const [, channels, ...dims] = spec.input.shape as number[];
  const nd = dims.length;
  const points = numel(spec.output.shape.slice(2));
  const plane = numel(dims);
  const reflect = spec.padding === 'reflection' ? reflectFn(k) : undefined;
  const range = (len: number): [number, number] => (spec.alignCorners ? [0, len - 1] : [-0.5, len - 0.5]);

  const valueAt = (flat: Expr): Expr => {
    const p = k.let('p', mod(flat, u(points)));
    const nc = k.let('nc', div(flat, u(points)));
    const gbase = k.let('gbase', mulConst(add(mulConst(div(nc, u(channels!)), points), p), nd));
    const base = k.let('base', mulConst(nc, plane));
    // The source coordinate per spatial dim (grid component nd-1-d addresses dim d).
    const coord = dims.map((len, d) => {
      const g = k.let(`g${d}`, toF32(grid.load(add(gbase, u(nd - 1 - d))), grid.value));
      let c: Expr = spec.alignCorners ? mul(mul(add(g, f(1)), f(0.5)), f(len - 1)) : mul(sub(mul(add(g, f(1)), f(len)), f(1)), f(0.5));
      // WGSL's round is half to even, as the reference's nearbyint.
      if (spec.mode === 'nearest') c = builtin('round', c);
      const v = k.var(`c${d}`, T.f32, c);
      const [lo, hi] = range(len);
      if (spec.padding === 'border') k.assign(v, select(lor(lt(v, f(lo)), gt(v, f(hi))), builtin('clamp', v, f(0), f(len - 1)), v));
      if (reflect) k.assign(v, call(reflect, v, f(lo), f(hi)));
      return v;
    });
    const acc = k.var('acc', T.f32, f(0));
    const taps = spec.mode === 'nearest' ? 1 : spec.mode === 'linear' ? 2 : 4;
    // Tap counts times an opaque 1, so lavapipe's LLVM does not unroll the nest (seconds of compilation in cubic).
    const tapBound = taps > 1 ? k.let('taps', mul(u(taps), opaqueOne(k))) : u(1);
    // One loop per dim over its taps, carrying the product of weights and the offset into the plane.
    const level = (d: number, w: Expr | undefined, offset: Expr, inside: Expr[]): void => {
      if (d === nd) {
        const add1 = (): void => {
          const v = toF32(x.load(add(base, offset)), x.value);
          k.assign(acc, add(acc, w ? mul(w, v) : v));
        };
        if (inside.length) k.if(inside.reduce(land), add1);
        else add1();
        return;
      }
      const len = dims[d]!;
      // Linear and cubic taps start at floor(c) (minus one for cubic); frac places c between them.
      const x0 = spec.mode === 'nearest' ? undefined : k.let(`x0_${d}`, builtin('floor', coord[d]!));
      const frac = x0 && k.let(`f${d}`, sub(coord[d]!, x0));
      const visit = (t: Expr | undefined): void => {
        let pos: Expr;
        let wd: Expr | undefined;
        if (!x0 || !frac) pos = convert('i32', coord[d]!);
        else {
          const tf = convert('f32', t!);
          pos = add(convert('i32', x0), sub(convert('i32', t!), lit.i32(spec.mode === 'cubic' ? 1 : 0)));
          if (spec.mode === 'linear') wd = select(eq(t!, u(0)), sub(f(1), frac), frac);
          else {
            // Keys (a = -0.75) at distance s from tap t: the near branch for the middle taps, the far one outside.
            const s = k.let(`s${d}`, builtin('abs', add(frac, sub(f(1), tf))));
            const near = add(mul(mul(sub(mul(f(1.25), s), f(2.25)), s), s), f(1));
            const far = add(mul(sub(mul(add(mul(f(-0.75), s), f(3.75)), s), f(6)), s), f(3));
            wd = select(lor(eq(t!, u(1)), eq(t!, u(2))), near, far);
          }
        }
        const at = k.let(`at${d}`, pos);
        let index: Expr = at;
        const within = [...inside];
        if (spec.padding === 'zeros') within.push(land(ge(at, lit.i32(0)), lt(at, lit.i32(len))));
        else if (spec.padding === 'border') index = builtin('clamp', at, lit.i32(0), lit.i32(len - 1));
        else {
          const [lo, hi] = range(len);
          index = select(land(ge(at, lit.i32(0)), lt(at, lit.i32(len))), at, convert('i32', call(reflect!, convert('f32', at), f(lo), f(hi))));
        }
        const off = sumU32([mulConst(offset, len), convert('u32', index)]);
        const wn = wd === undefined ? w : w === undefined ? wd : mul(w, wd);
        level(d + 1, wn === undefined ? undefined : k.let(`w${d}`, wn), k.let(`o${d}`, off), within);
      };
      if (taps === 1) visit(undefined);
      else k.for(`t${d}`, u(0), tapBound, visit);
    };
    level(0, undefined, u(0), []);
    return fromCompute(acc, out.value);
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
