// Convolution (any number of spatial dims; 1-D, 2-D and 3-D alike) and, with `transpose`, its adjoint
// ConvTranspose, as one generator with two paths:
//   * gemm: implicit GEMM per (image, group): out[m, p] = sum over (c, tap) of W[m, (c, tap)] * X[c, pixel(p, tap)],
//     with the im2col matrix never materialised: the B loader decodes (c, tap) and the output pixel p into an
//     input position on the fly (zero outside the image, and for transposed conv where the stride skips it).
//     The loop nest and workgroup-memory tiles are the matmul's (matmul-tiled.ts).
//   * direct: one invocation per output element, looping over its group's channels and the taps: depthwise
//     convolutions (one channel per group) and convs with few filters per group, where GEMM tiles would idle.
// Bias and epilogue ops (matmul-epilogue.ts) are applied before the store. The batch may be symbolic (read from
// the dims uniform): it only scales the dispatch. So may a Conv's spatial dims (not a ConvTranspose's): sizes,
// strides of the planes and auto_pad SAME's pads are then read from the uniform too, every window bound is checked
// at run time where some size in range may cross it, and the GEMM's N (output pixels) is ragged. Channels, filters
// and the kernel stay baked in.
import { dimMul, dimProduct, dimRange, dimSub } from '../../ir/dim.js';
import type { Attrs } from '../../ir/graph.js';
import { AttrReader, lookupOp } from '../../ir/op.js';
import { checkWindowFits, resolveWindow } from '../../ir/ops/shape-util.js';
import { type Dim, numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import type { DimContext } from '../wgsl/dims.js';
import { T, add, builtin, convert, div, eq, ge, index, land, lit, lt, mod, mul, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import { MAX_STORAGE_BINDINGS, type TensorSpec, divC, divDim, fromCompute, modC, modDim, mulDim, toCompute, unflatten, unflattenDims } from './lib/index.js';
import { type Epilogue, declareEpilogue, epilogueBindings } from './matmul-epilogue.js';
import { type GemmProblem, type TileConfig, emitTiledGemm, tileThreads } from './matmul-tiled.js';

export type ConvPath = ({ readonly kind: 'gemm' } & TileConfig) | { readonly kind: 'direct'; readonly workgroupSize: number };

export interface ConvSpec extends KernelSpecBase {
  readonly kernel: 'conv';
  /** Present when the batch or (Conv) spatial dims are symbolic (x and out carry `dims`): the kernel binds the dims uniform first. */
  readonly dims?: DimContext;
  /** ConvTranspose: W is [C, M/group, ...kernel] and each input element scatters into the output. */
  readonly transpose: boolean;
  /** [N, C, ...spatial]. */
  readonly x: TensorSpec;
  /** Conv: [M, C/group, ...kernel]; transposed: [C, M/group, ...kernel]. */
  readonly w: TensorSpec;
  readonly bias?: TensorSpec;
  /** [N, M, ...outSpatial]. */
  readonly out: TensorSpec;
  readonly group: number;
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /**
   * Padding at the start of each spatial dim (for ConvTranspose: how far the full result is cropped); symbolic
   * only for auto_pad SAME over a symbolic spatial dim.
   */
  readonly padBegin: readonly Dim[];
  readonly epilogue?: Epilogue;
  readonly path: ConvPath;
}

export interface ConvIO {
  /** The program's symbols, when the batch is symbolic (tensor specs from symbolicTensor). */
  readonly dims?: DimContext;
  readonly x: TensorSpec;
  readonly w: TensorSpec;
  readonly bias?: TensorSpec;
  readonly out: TensorSpec;
}

const u = lit.u32;
const i32 = lit.i32;

/** Sizes a spec implies: batch, channels, filters, per-group counts, spatial sizes. */
export function convGeometry(s: ConvSpec) {
  const [batch, channels] = s.x.shape as [number, number];
  const filters = s.out.shape[1]!;
  const kernel = s.w.shape.slice(2);
  const inSize = s.x.shape.slice(2);
  const outSize = s.out.shape.slice(2);
  return {
    batch,
    channels,
    filters,
    kernel,
    inSize,
    outSize,
    cg: channels / s.group,
    mg: filters / s.group,
    taps: numel(kernel),
    plane: numel(inSize),
    pixels: numel(outSize),
  };
}

/** The spatial sizes as dims (symbolic where the spec's tensors are), and the plane and pixel counts. */
function convDims(s: ConvSpec) {
  const inSize = (s.x.dims ?? s.x.shape).slice(2);
  const outSize = (s.out.dims ?? s.out.shape).slice(2);
  return { inSize, outSize, plane: dimProduct(inSize), pixels: dimProduct(outSize) };
}

/** Multiply-adds x 2: per output element (Conv) or per input element (ConvTranspose), its group's channels x taps. */
export const convFlops = (s: ConvSpec): number => {
  const g = convGeometry(s);
  return s.transpose ? 2 * g.batch * g.channels * g.plane * g.mg * g.taps : 2 * g.batch * g.filters * g.pixels * g.cg * g.taps;
};

/**
 * The input position that output coords `o` read through kernel tap `t` (per spatial dim, u32): its flat index
 * in the input plane (clamped into range) and whether it exists (undefined: always).
 */
export function inputPosition(k: KernelBuilder, s: ConvSpec, o: readonly Expr[], t: readonly Expr[]): { index: Expr; valid?: Expr } {
  const g = convGeometry(s);
  const { inSize, outSize } = convDims(s);
  const conds: Expr[] = [];
  const coords = inSize.map((size, d) => {
    const stride = s.strides[d]!;
    const dil = s.dilations[d]!;
    const pad = s.padBegin[d]!;
    const td = t[d]!;
    const tap = td.kind === 'lit' && td.value === 0 ? null : convert('i32', mulConst(td, dil));
    if (!s.transpose) {
      // i = o*stride + t*dil - pad; it can only leave [0, size) through the pads.
      let i: Expr = convert('i32', mulConst(o[d]!, stride));
      if (tap) i = add(i, tap);
      if (pad !== 0) i = sub(i, typeof pad === 'number' ? i32(pad) : convert('i32', k.dim(pad)));
      const out = outSize[d]!;
      if (typeof size === 'number' && typeof out === 'number' && typeof pad === 'number') {
        const hi = (out - 1) * stride + (g.kernel[d]! - 1) * dil - pad;
        if (pad > 0) conds.push(ge(i, i32(0)));
        if (hi >= size) conds.push(lt(i, i32(size)));
        return pad > 0 || hi >= size ? builtin('clamp', i, i32(0), i32(size - 1)) : i;
      }
      // Over symbolic sizes: check each bound that some size in range may cross (the last tap's position minus
      // the size, at its greatest).
      const low = typeof pad !== 'number' || pad > 0;
      const high = k.dimMax(dimSub(dimSub(dimMul(dimSub(out, 1), stride), pad), size)) + (g.kernel[d]! - 1) * dil >= 0;
      const n = typeof size === 'number' ? i32(size) : convert('i32', k.dim(size));
      if (low) conds.push(ge(i, i32(0)));
      if (high) conds.push(lt(i, n));
      return low || high ? builtin('clamp', i, i32(0), sub(n, i32(1))) : i;
    }
    if (typeof size !== 'number' || typeof pad !== 'number') throw new Error('ConvTranspose over symbolic spatial dims');
    // Transposed: input i reaches o = i*stride + t*dil - pad, so i = (o + pad - t*dil) / stride when divisible.
    let num: Expr = convert('i32', o[d]!);
    if (pad !== 0) num = add(num, i32(pad));
    if (tap) num = sub(num, tap);
    conds.push(ge(num, i32(0)));
    if (stride > 1) conds.push(eq(mod(num, i32(stride)), i32(0)));
    const i = stride > 1 ? div(num, i32(stride)) : num;
    conds.push(lt(i, i32(size)));
    return builtin('clamp', i, i32(0), i32(size - 1));
  });
  let stride: Dim = 1;
  const terms: Expr[] = [];
  for (let d = coords.length - 1; d >= 0; d--) {
    terms.unshift(mulDim(k, convert('u32', coords[d]!), stride));
    stride = dimMul(stride, inSize[d]!);
  }
  const index = sumU32(terms);
  return conds.length ? { index, valid: conds.reduce(land) } : { index };
}

/** Tap coordinates of tap index `t` (literals when the kernel has one tap). */
export const tapCoords = (s: ConvSpec, t: Expr): Expr[] => {
  const kernel = s.w.shape.slice(2);
  return numel(kernel) === 1 ? kernel.map(() => u(0)) : unflatten(t, kernel);
};

/** Flat weight index of (group g, filter m within the group, channel c within the group, tap t). */
function weightIndex(s: ConvSpec, g: Expr, m: Expr, c: Expr, t: Expr): Expr {
  const { cg, mg, taps } = convGeometry(s);
  const outer = s.transpose ? sumU32([mulConst(sumU32([mulConst(g, cg), c]), mg), m]) : sumU32([mulConst(sumU32([mulConst(g, mg), m]), cg), c]);
  return sumU32([mulConst(outer, taps), t]);
}

export const conv: KernelGen<ConvSpec> = (spec) => {
  const geo = convGeometry(spec);
  const sizes = convDims(spec);
  const threads = spec.path.kind === 'gemm' ? tileThreads(spec.path) : spec.path.workgroupSize;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: threads, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const batch: Dim = spec.x.dims?.[0] ?? geo.batch;
  const X = k.input('x', spec.x);
  // Conv weights on the GEMM path are the A matrix itself, [filters, C/group * taps]: vec4 loads along K when
  // rows are whole vec4s.
  const wVec = spec.path.kind === 'gemm' && !spec.transpose && spec.w.dtype === 'f32' && (geo.cg * geo.taps) % 4 === 0;
  const Wv = wVec ? k.vec4Input('w', spec.w) : undefined;
  const W = wVec ? undefined : k.input('w', spec.w);
  const loadW = (flat: Expr): Expr => (Wv ? index(index(Wv, div(flat, u(4))), mod(flat, u(4))) : load(W!, flat));
  const Bias = spec.bias && k.input('bias', spec.bias);
  const epilogue = declareEpilogue(k, spec.epilogue, spec.out);
  const out = k.output('out', spec.out);
  if (out.packed) throw new Error(`conv output dtype ${spec.out.dtype} is packed in storage; compile with shader-f16`);
  const load = (a: TensorAccessor, flat: Expr): Expr => toCompute(a.load(flat), a.value);
  const finish = (flat: Expr, filter: Expr, acc: Expr): void => {
    const v = Bias ? add(acc, load(Bias, filter)) : acc;
    out.store(flat, fromCompute(epilogue(v, flat), out.value));
  };

  if (spec.path.kind === 'direct') {
    const total = dimProduct(spec.out.dims ?? spec.out.shape);
    const i = k.globalIndexDim(total);
    k.if(lt(i, k.dim(total)), () => {
      const p = k.let('p', modDim(k, i, sizes.pixels));
      const mf = k.let('mf', modC(divDim(k, i, sizes.pixels), geo.filters));
      const n = k.let('n', divDim(k, i, dimMul(sizes.pixels, geo.filters)));
      const g = k.let('g', divC(mf, geo.mg));
      const m = k.let('m', modC(mf, geo.mg));
      const o = unflattenDims(p, sizes.outSize, (d) => k.dim(d)).map((e, d) => k.let(`o${d}`, e));
      const acc = k.var('acc', T.f32, lit.f32(0));
      const xBase = k.let('xb', mulDim(k, sumU32([mulConst(n, geo.channels), mulConst(g, geo.cg)]), sizes.plane));
      k.for('c', u(0), u(geo.cg), (c) => {
        const tap = (t: Expr): void => {
          const pos = inputPosition(k, spec, o, tapCoords(spec, t));
          const mac = (): void =>
            k.compound('+=', acc, mul(load(X, sumU32([xBase, mulDim(k, c, sizes.plane), pos.index])), loadW(weightIndex(spec, g, m, c, t))));
          if (pos.valid) k.if(pos.valid, mac);
          else mac();
        };
        // Taps loop rather than unroll: Chromium's SwiftShader never finishes compiling the unrolled form of even a
        // 3x3 kernel (the pipeline promise hangs), and lavapipe gains little from it.
        if (geo.taps === 1) tap(u(0));
        else k.for('t', u(0), u(geo.taps), tap);
      });
      finish(i, mf, acc);
    });
    return k.finish();
  }

  // Implicit GEMM per (image n, group g): M = filters per group, N = output pixels, K = channels per group x taps.
  const bases = { w: u(0) as Expr, x: u(0) as Expr, out: u(0) as Expr, g: u(0) as Expr };
  const problem: GemmProblem = {
    m: geo.mg,
    n: sizes.pixels,
    k: geo.cg * geo.taps,
    batch: dimMul(batch, spec.group),
    compute: 'f32',
    aContig: 'col',
    bContig: 'col',
    setupBatch(b) {
      const g = (bases.g = k.let('g', modC(b, spec.group)));
      const n = k.let('n', divC(b, spec.group));
      bases.x = k.let('x_base', mulDim(k, sumU32([mulConst(n, geo.channels), mulConst(g, geo.cg)]), sizes.plane));
      bases.out = k.let('out_base', mulDim(k, sumU32([mulConst(n, geo.filters), mulConst(g, geo.mg)]), sizes.pixels));
    },
    loadA(m, kk) {
      const c = divC(kk, geo.taps);
      const t = modC(kk, geo.taps);
      return { value: loadW(spec.transpose ? weightIndex(spec, bases.g, m, c, t) : sumU32([mulConst(sumU32([mulConst(bases.g, geo.mg), m]), geo.cg * geo.taps), kk])) };
    },
    ...(Wv ? { vecA: { along: 'col' as const, load: (m: Expr, kk: Expr) => index(Wv, div(sumU32([mulConst(sumU32([mulConst(bases.g, geo.mg), m]), geo.cg * geo.taps), kk]), u(4))) } } : {}),
    loadB(kk, p) {
      const c = divC(kk, geo.taps);
      const pos = inputPosition(k, spec, unflattenDims(p, sizes.outSize, (d) => k.dim(d)), tapCoords(spec, modC(kk, geo.taps)));
      const value = load(X, sumU32([bases.x, mulDim(k, c, sizes.plane), pos.index]));
      return pos.valid ? { value, valid: pos.valid } : { value };
    },
    store(m, p, acc) {
      const flat = k.let('o', sumU32([bases.out, mulDim(k, m, sizes.pixels), p]));
      finish(flat, sumU32([mulConst(bases.g, geo.mg), m]), acc);
    },
  };
  emitTiledGemm(k, problem, spec.path);
  return k.finish();
};

// ---- specs --------------------------------------------------------------------------------------------------

/** gemm unless the GEMM would be too thin to fill a tile (depthwise, few filters per group, tiny reductions). */
export function chooseConvPath(filtersPerGroup: number, pixels: number, reduction: number): ConvPath {
  if (filtersPerGroup < 16 || reduction < 16 || pixels < 16) return { kind: 'direct', workgroupSize: 64 };
  if (filtersPerGroup >= 64 && pixels >= 64) return { kind: 'gemm', bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 };
  return { kind: 'gemm', bm: 32, bn: 32, bk: 16, tm: 4, tn: 4 };
}

/** A conv spec from geometry already resolved (shared by Conv and ConvTranspose). */
export function convSpecFrom(
  target: Target,
  io: ConvIO,
  g: { transpose: boolean; group: number; strides: readonly number[]; dilations: readonly number[]; padBegin: readonly Dim[] },
  extra: { epilogue?: Epilogue; path?: ConvPath } = {},
): ConvSpec {
  const bindings = 3 + (io.bias ? 1 : 0) + epilogueBindings(extra.epilogue);
  // A Conv's spatial dims may be symbolic; a ConvTranspose's may not (nor anyone's channels or weights).
  const fixed = [io.x.dims?.slice(1, g.transpose ? undefined : 2), io.out.dims?.slice(1, g.transpose ? undefined : 2), io.w.dims, io.bias?.dims].flatMap((d) => d ?? []);
  if (fixed.some((d) => typeof d !== 'number')) throw new Error(`convolution with symbolic channel or spatial dims (x [${io.x.dims}], out [${io.out.dims}]); kernels need static shapes except the batch`);
  if (bindings > MAX_STORAGE_BINDINGS) throw new Error(`conv with ${bindings} storage bindings exceeds the limit of ${MAX_STORAGE_BINDINGS}`);
  if (io.x.dtype === 'f16' && !target.shaderF16) throw new Error('f16 convolution needs the shader-f16 feature in the target');
  if (io.x.dtype !== 'f32' && io.x.dtype !== 'f16') throw new Error(`convolution has no kernel for ${io.x.dtype}`);
  const spatial = io.x.shape.length - 2;
  const filtersPerGroup = io.out.shape[1]! / g.group;
  const reduction = (io.x.shape[1]! / g.group) * numel(io.w.shape.slice(2));
  const path = extra.path ?? chooseConvPath(filtersPerGroup, numel(io.out.shape.slice(2)), reduction);
  if (g.strides.length !== spatial || g.dilations.length !== spatial || g.padBegin.length !== spatial) throw new Error('conv geometry has the wrong rank');
  return {
    kernel: 'conv',
    target: { shaderF16: target.shaderF16 },
    ...(io.dims ? { dims: io.dims } : {}),
    transpose: g.transpose,
    x: io.x,
    w: io.w,
    ...(io.bias ? { bias: io.bias } : {}),
    out: io.out,
    group: g.group,
    strides: [...g.strides],
    dilations: [...g.dilations],
    padBegin: [...g.padBegin],
    ...(extra.epilogue?.length ? { epilogue: extra.epilogue } : {}),
    path,
  };
}

/** The spec of a Conv node: auto_pad, pads, strides and dilations resolved exactly as the IR op does. */
export function convSpec(target: Target, io: ConvIO, attrs: AttrReader, extra: { epilogue?: Epilogue; path?: ConvPath } = {}): ConvSpec {
  const inSize = (io.x.dims ?? io.x.shape).slice(2);
  const win = resolveWindow('Conv', attrs, inSize, io.w.shape.slice(2), false);
  const bounds = io.dims?.bounds;
  if (bounds) checkWindowFits('Conv', attrs, win, inSize, (d) => dimRange(d, (s) => bounds[s]!)[0]);
  const n = win.kernel.length;
  return convSpecFrom(target, io, { transpose: false, group: attrs.int('group'), strides: win.strides, dilations: win.dilations, padBegin: win.pads.slice(0, n) }, extra);
}

/** An AttrReader for `op`'s schema (tests and callers holding raw attributes). */
export const opAttrs = (op: string, values: Attrs): AttrReader =>
  new AttrReader(op, lookupOp(op)!.attrs, values);
