// Resize along an axis whose input or output size is symbolic: the taps of each output coordinate are computed
// in the shader (the static kernel reads them off tables baked from the interpreter, which needs the sizes).
// The source coordinate of every transform is a rational n/d of integers: with `sizes` the scale is out/in per
// run, with a constant scale it is p/q (an f32 scale is p/2^k). So the kernel computes n and d in i32, the tap
// base as an integer division and the fraction r/d in (0, 1] exactly; nearest's choices (exact hits, ties) are
// decided in integers, exactly as the interpreter decides them (it snaps float64 coordinates within rounding of
// a half to that half: ir/ops/resize.ts). Linear and cubic weights are f32 functions of r/d, continuous in it,
// so they differ from the interpreter's float64 ones by rounding only.
import type { Dim } from '../../ir/shape.js';
import type { Expr } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, convert, div, eq, ge, gt, land, lit, lor, lt, mul, ne, select, sub } from '../wgsl/dsl.js';

/** One resized axis whose taps are computed at run time. */
export interface ComputedAxis {
  readonly kind: 'computed';
  /** Output size. */
  readonly size: Dim;
  readonly inSize: Dim;
  readonly inStride: Dim;
  /** The model's constant scale as p/q; absent when the scale is out/in (sizes given), computed per run. */
  readonly scale?: readonly [number, number];
}

/** The attributes every computed axis shares. */
export interface CoordRule {
  readonly mode: 'nearest' | 'linear' | 'cubic';
  readonly transform: string;
  readonly nearest: string;
  readonly cubicA: number;
  readonly exclude: boolean;
}

/** One tap: its (clamped) input index, its weight (absent for nearest: 1) and, with exclude_outside, whether it is inside. */
export interface TapExpr {
  readonly index: Expr;
  readonly weight?: Expr;
  readonly inside?: Expr;
}

const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];

/** A constant scale as p/q with q a power of two (every f32 scale is), or undefined past 2^10. */
function rationalScale(s: number): [number, number] | undefined {
  for (let q = 1; q <= 1024; q *= 2) if (Number.isSafeInteger(s * q)) return [s * q, q];
  return undefined;
}

/**
 * Plan a resized axis with a symbolic size: a computed axis, or 'copy' when it is the identity. `most` gives a
 * dim's upper bound. Throws a one-line reason when the kernel cannot do it exactly.
 */
export function planComputedAxis(
  axis: number,
  rule: CoordRule & { readonly antialias: boolean },
  inSize: Dim,
  outSize: Dim,
  inStride: Dim,
  scale: number | undefined,
  most: (d: Dim) => number,
): ComputedAxis | 'copy' {
  const where = `Resize of symbolic axis ${axis} (${inSize} -> ${outSize})`;
  if (!TRANSFORMS.includes(rule.transform))
    throw new Error(`${where} with coordinate_transformation_mode '${rule.transform}' has no kernel for symbolic sizes`);
  const pq = scale === undefined ? undefined : rationalScale(scale);
  if (scale !== undefined && !pq) throw new Error(`${where}: scale ${scale} is not a multiple of 1/1024, which the symbolic kernel needs`);
  // With the same in and out size (and scale 1) every transform maps x to x.
  if ((pq === undefined || pq[0] === pq[1]) && inSize === outSize) return 'copy';
  // Antialiasing widens the kernel by 1/scale when downsampling: a tap count known only per run.
  if (rule.antialias && (!pq || pq[0] < pq[1]))
    throw new Error(`${where} with antialias has no kernel unless the scale is a constant >= 1`);
  // Bounds on n and d (computeNd), which must fit i32 and keep r/d exact in f32.
  const [p, q] = pq ?? [1, 1];
  const [inMax, outMax] = [most(inSize), most(outSize)];
  const nMax = pq ? (2 * outMax + 1) * q + p * inMax + outMax * q + outMax * inMax * q : (2 * outMax + 1) * inMax + outMax;
  const dMax = pq ? Math.max(2 * p, inMax * p) : 2 * outMax;
  if (nMax >= 2 ** 31 || dMax >= 2 ** 24)
    throw new Error(`${where}: sizes up to ${inMax} -> ${outMax} are too large for the symbolic kernel's exact coordinates`);
  return { kind: 'computed', size: outSize, inSize, inStride, ...(pq ? { scale: pq } : {}) };
}

const i32 = (e: Expr): Expr => convert('i32', e);

/** The source coordinate of output coordinate x as n/d (d > 0); n >= -(d-1)/2, as every transform starts at >= -0.5. */
function computeNd(k: KernelBuilder, a: ComputedAxis, rule: CoordRule, x: Expr): { n: Expr; d: Expr } {
  const I = k.let('ri', i32(k.dim(a.inSize)));
  const O = k.let('ro', i32(k.dim(a.size)));
  const xi = i32(x);
  const c = lit.i32;
  const odd = add(mul(c(2), xi), c(1));
  const t = rule.transform;
  if (!a.scale) {
    // scale = O / I, length = scale * I = O.
    if (t === 'asymmetric') return { n: mul(xi, I), d: O };
    if (t === 'align_corners') return { n: select(gt(O, c(1)), mul(xi, sub(I, c(1))), c(0)), d: builtin('max', sub(O, c(1)), c(1)) };
    const n = sub(mul(odd, I), O);
    // half_pixel_symmetric's offset is 0 when the length is the whole output size.
    return { n: t === 'pytorch_half_pixel' ? select(gt(O, c(1)), n, c(0)) : n, d: mul(c(2), O) };
  }
  const [p, q] = a.scale;
  // scale = p / q, length = I * p / q.
  if (t === 'asymmetric') return { n: mul(xi, c(q)), d: c(p) };
  if (t === 'align_corners') {
    const ip = mul(I, c(p));
    return { n: select(ne(ip, c(q)), mul(mul(xi, sub(I, c(1))), c(q)), c(0)), d: builtin('max', sub(ip, c(q)), c(1)) };
  }
  const half = sub(mul(odd, c(q)), c(p));
  if (t === 'half_pixel') return { n: half, d: c(2 * p) };
  if (t === 'pytorch_half_pixel') return { n: select(gt(mul(I, c(p)), c(q)), half, c(0)), d: c(2 * p) };
  // half_pixel_symmetric: offset (p*I - O*q) / (2p) centres the window when O was rounded down from the length.
  return { n: add(sub(mul(I, c(p)), mul(O, c(q))), half), d: c(2 * p) };
}

/** The cubic convolution kernel on |t| <= 1 or 1 <= |t| <= 2 (both formulas agree at 1; the far one is 0 at 2). */
function cubic(a: number, t: Expr, near: boolean): Expr {
  const f = lit.f32;
  if (near) return add(mul(mul(sub(mul(f(a + 2), t), f(a + 3)), t), t), f(1));
  return sub(mul(add(mul(sub(mul(f(a), t), f(5 * a)), t), f(8 * a)), t), f(4 * a));
}

/** The taps of output coordinate x (u32) along a computed axis. */
export function computedTaps(k: KernelBuilder, a: ComputedAxis, rule: CoordRule, x: Expr): TapExpr[] {
  const { n, d } = computeNd(k, a, rule, x);
  const nn = k.let('rn', n);
  const dd = k.let('rd', d);
  const c = lit.i32;
  // base = ceil(n/d) - 1 (the tap strictly left of an exact hit), r = n - base*d in (0, d].
  const base = k.let('rb', sub(div(add(nn, sub(dd, c(1))), dd), c(1)));
  const r = k.let('rr', sub(nn, mul(base, dd)));
  const I = i32(k.dim(a.inSize));
  const tap = (offset: Expr): { index: Expr; inside?: Expr } => {
    const i = k.let('ti', add(base, offset));
    const index = convert('u32', builtin('clamp', i, c(0), sub(I, c(1))));
    return rule.exclude ? { index, inside: land(ge(i, c(0)), lt(i, I)) } : { index };
  };
  if (rule.mode === 'nearest') {
    const twice = mul(c(2), r);
    const pick = { round_prefer_floor: gt(twice, dd), round_prefer_ceil: ge(twice, dd), floor: lit.bool(false), ceil: lit.bool(true) }[rule.nearest];
    if (!pick) throw new Error(`Resize nearest_mode '${rule.nearest}' is not one kiln knows`);
    const up = rule.nearest === 'ceil' ? pick : lor(eq(r, dd), pick);
    return [tap(rule.nearest === 'ceil' ? c(1) : select(up, c(1), c(0)))];
  }
  const ratio = k.let('ratio', div(convert('f32', r), convert('f32', dd)));
  const f = lit.f32;
  const weights =
    rule.mode === 'linear'
      ? [sub(f(1), ratio), ratio]
      : [cubic(rule.cubicA, add(f(1), ratio), false), cubic(rule.cubicA, ratio, true), cubic(rule.cubicA, sub(f(1), ratio), true), cubic(rule.cubicA, sub(f(2), ratio), false)];
  const first = rule.mode === 'linear' ? 0 : -1;
  const taps = weights.map((w, j) => ({ ...tap(c(first + j)), weight: k.let('tw', w) }));
  if (!rule.exclude) return taps;
  // exclude_outside: taps past the edges drop out and the rest are renormalised to sum to 1.
  const sum = k.let('tsum', taps.map((t) => select(t.inside!, t.weight, f(0))).reduce((s, w) => add(s, w)));
  return taps.map((t) => ({ ...t, weight: k.let('tw', div(t.weight, sum)) }));
}
