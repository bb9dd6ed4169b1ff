// A convolution as the arranged kernel's implicit GEMM: out[n, m, p] = sum over (c, tap) of A[m, (c, tap)] *
// X[n, c, pixel(p, tap)], with A the weight's matrix [M filters, C * taps] that arrange-layout stored in panels of
// P filters, K-major inside ([ceil(M/P)][K][P], passes/layout/arrangement.ts; K = C * taps). The lanes and loads
// are the arranged GEMV's (gemv-arranged.ts): one workgroup per (panel, block of T output pixels), a lane owns
// `perLane` adjacent filters and at each k makes one or two 16-byte weight loads, reused for the T pixels of its
// block; the input values, the same for every lane, come from the im2col position of each pixel at that tap
// (conv.ts inputPosition: zero outside the image), so the im2col matrix is never stored. No workgroup memory, no
// barrier: on lavapipe those and the tiled kernel's index decoding per element cost more than the loads
// (perf-notes.md). Bias and epilogue ops before the store. One group, static shapes (the lowering checks).
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, binary, builtin, construct, div, lit, lt, member, mod, mul, mulConst, select, sumU32, vecType } from '../wgsl/dsl.js';
import { type ConvSpec, convGeometry, inputPosition, tapCoords } from './conv.js';
import { panelWeights } from './gemv-arranged.js';
import { XYZW, fromCompute, toCompute, unflatten } from './lib/index.js';
import { declareEpilogue } from './matmul-epilogue.js';
import type { TensorSpec } from './lib/index.js';

export interface ArrangedConvSpec extends KernelSpecBase {
  readonly kernel: 'conv-arranged';
  /** The convolution (its w the logical weight [M, C, ...kernel]); its path is unused. */
  readonly conv: ConvSpec;
  /** The stored panels: f32 or f16, [ceil(M / panel) * C * taps * panel]. */
  readonly stored: TensorSpec;
  readonly panel: number;
  /** Output pixels per workgroup (1..16). */
  readonly tokens: number;
  /** Filters per lane (f32: 4 or 8; f16: 8 or 16). */
  readonly perLane: number;
}

const u = lit.u32;

export function arrangedConvProblems(s: Omit<ArrangedConvSpec, 'kernel' | 'target'>): string[] {
  const p: string[] = [];
  const g = convGeometry(s.conv);
  const one = s.stored.dtype === 'f16' ? 8 : 4;
  if (s.conv.transpose || s.conv.group !== 1 || s.conv.dims) p.push('a transposed, grouped or symbolic convolution');
  if (s.stored.dtype !== 'f32' && s.stored.dtype !== 'f16') p.push(`weight dtype ${s.stored.dtype}`);
  if (s.panel < 8 || s.panel > 256 || s.panel % 8 !== 0) p.push(`panel ${s.panel} (a multiple of 8 in 8..256)`);
  if (s.perLane !== one && s.perLane !== 2 * one) p.push(`${s.perLane} filters per lane (${one} or ${2 * one} for ${s.stored.dtype})`);
  else if (s.panel % s.perLane !== 0) p.push(`panel ${s.panel} is not whole lanes of ${s.perLane} filters`);
  if (s.tokens < 1 || s.tokens > 16) p.push(`${s.tokens} pixels per workgroup (1..16)`);
  if (s.stored.shape.reduce((a, b) => a * b, 1) !== Math.ceil(g.filters / s.panel) * g.cg * g.taps * s.panel) p.push(`stored weight [${s.stored.shape.join(',')}] for ${g.filters} x ${g.cg * g.taps} in panels of ${s.panel}`);
  if (s.conv.out.dtype !== 'f32') p.push(`result dtype ${s.conv.out.dtype}`);
  return p;
}

export const convArranged: KernelGen<ArrangedConvSpec> = (spec) => {
  const bad = arrangedConvProblems(spec);
  if (bad.length) throw new Error(`arranged conv: invalid spec (${bad.join('; ')})`);
  const s = spec.conv;
  const geo = convGeometry(s);
  const { panel, tokens: T, perLane: per } = spec;
  const K = geo.cg * geo.taps;
  const rows = geo.batch * geo.pixels;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: panel / per });
  const X = k.input('x', s.x);
  const weights = panelWeights(k, spec.stored, panel, per);
  const Bias = s.bias && k.input('bias', s.bias);
  const epilogue = declareEpilogue(k, s.epilogue, s.out);
  const out = k.output('out', s.out);
  const quads = per / 4;

  // Consecutive workgroups take the blocks of one panel, so its weights are read from cache by all but the first.
  const blocks = Math.ceil(rows / T);
  const groups = Math.ceil(geo.filters / panel) * blocks;
  const flat = k.workgroupIndex(groups);
  const wg = k.let('panel', div(flat, u(blocks)));
  const blk = k.let('blk', mod(flat, u(blocks)));
  const lane = k.builtinInput('local_invocation_index');
  // Pixel t of the block: its row (clamped in a ragged last block, whose extra rows store nothing), image,
  // output coordinates and input base.
  const px = Array.from({ length: T }, (_, t) => {
    const row = k.let('r', builtin('min', add(mulConst(blk, T), u(t)), u(rows - 1)));
    const n = k.let('n', div(row, u(geo.pixels)));
    const p = k.let('p', mod(row, u(geo.pixels)));
    const o = unflatten(p, geo.outSize).map((e) => k.let('o', e));
    return { n, p, o, xBase: k.let('xb', mulConst(n, geo.channels * geo.plane)) };
  });
  const base = weights.base(wg, lane, K);
  const f32x4 = vecType(4, 'f32');
  const acc = Array.from({ length: T }, () => Array.from({ length: quads }, () => k.var('acc', f32x4, construct(f32x4, lit.f32(0)))));
  k.for('c', u(0), u(geo.cg), (c) => {
    const tap = (t: Expr): void => {
      const w = weights.load(base, sumU32([mulConst(c, geo.taps), t])).map((e) => k.let('w', e));
      const coords = tapCoords(s, t);
      for (let i = 0; i < T; i++) {
        const pos = inputPosition(k, s, px[i]!.o, coords);
        let v = toCompute(X.load(sumU32([px[i]!.xBase, mulConst(c, geo.plane), pos.index])), X.value);
        if (pos.valid) v = select(pos.valid, v, lit.f32(0));
        const xv = k.let('xv', v);
        for (let q = 0; q < quads; q++) k.compound('+=', acc[i]![q]!, mul(w[q]!, xv));
      }
    };
    // A taps loop rather than an unrolled body: Chromium's SwiftShader never finishes compiling unrolled 3x3
    // bodies (conv.ts), and the loop costs little next to the loads.
    if (geo.taps === 1) tap(u(0));
    else k.for('t', u(0), u(geo.taps), tap);
  });

  const m0 = k.let('m0', add(mulConst(wg, panel), mulConst(lane, per)));
  const raggedM = geo.filters % panel !== 0;
  const raggedRows = rows % T !== 0;
  for (let i = 0; i < T; i++) for (let q = 0; q < quads; q++) for (let e = 0; e < 4; e++) {
    const m = q * 4 + e ? add(m0, u(q * 4 + e)) : m0;
    const store = (): void => {
      const o = k.let('o', sumU32([mulConst(px[i]!.n, geo.filters * geo.pixels), mulConst(m, geo.pixels), px[i]!.p]));
      let v: Expr = member(acc[i]![q]!, XYZW[e]!);
      if (Bias) v = add(v, toCompute(Bias.load(m), Bias.value));
      out.store(o, fromCompute(epilogue(v, o), out.value));
    };
    const conds = [
      ...(raggedRows ? [lt(add(mulConst(blk, T), u(i)), u(rows))] : []),
      ...(raggedM ? [lt(m, u(geo.filters))] : []),
      ...(groups > 65535 ? [lt(flat, u(groups))] : []),
    ];
    if (conds.length) k.if(conds.reduce((a, b) => binary('&&', a, b)), store);
    else store();
  }
  return k.finish();
};

/** FLOPs (2 per multiply-add). */
export const arrangedConvFlops = (s: ArrangedConvSpec): number => {
  const g = convGeometry(s.conv);
  return 2 * g.batch * g.filters * g.pixels * g.cg * g.taps;
};
