// The arranged GEMV: y[s, j] = alpha * sum_k x[s, k] * A[j, k] (+ beta * C) -> epilogue, for up to 8 activation
// rows s, reading a weight that arrange-layout stored as panels of P outputs, K-major inside
// (passes/layout/arrangement.ts: [ceil(M/P)][K][P], last panel zero-padded). One workgroup per panel, P/L lanes;
// lane l owns the L adjacent outputs p*P + L*l .. +L-1 and walks all of K itself: at each k it makes one 16-byte
// load (a vec4<f32> of f32 weights, L = 4; a vec4<u32> of eight f16, L = 8, widened with unpack2x16float), and
// the workgroup's lanes together read P contiguous weights, then the next k's P. So the workgroup streams one
// contiguous range, there is no workgroup memory, no barrier and no reduction (perf-notes.md: on lavapipe a
// barrier and a tree reduction cost more than the reads, and a load costs the same whatever its width, so
// bytes per load decide the rate). `unroll` k-rows per step, split over two accumulators. Ragged M: the padded
// lanes compute zeros and skip their stores; ragged K: the rows past the last whole step one at a time.
// More activation rows than `tokens` (a prefill GEMM over the same panels): workgroup (panel, block) computes the
// rows block*T .. block*T+T-1, one accumulator each (register pressure); consecutive workgroups take the blocks of
// one panel, so its weights are read from cache by all but the first. A lane's loads per k are then one 16-byte
// weight load and T activation loads for 4T (f32) or 8T (f16) multiply-adds.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, binary, builtin, construct, convert, div, index, lit, lt, member, mod, mul, mulConst, vecType } from '../wgsl/dsl.js';
import { type TensorSpec, XYZW, fromCompute, mulConstF32, toCompute } from './lib/index.js';
import { type Epilogue, declareEpilogue } from './matmul-epilogue.js';

export interface ArrangedGemvSpec extends KernelSpecBase {
  readonly kernel: 'gemv-arranged';
  /** Activation rows, outputs, inputs, outputs per panel (a multiple of 8, at most 256). */
  readonly rows: number;
  /** Activation rows one workgroup computes (1..16): all of them, or a block of a longer activation. */
  readonly tokens: number;
  readonly m: number;
  readonly k: number;
  readonly panel: number;
  /** The activation [..., K] (rows * K elements), any float dtype. */
  readonly x: TensorSpec;
  /** The stored weight: f32 or f16, [ceil(m / panel) * k * panel]. */
  readonly w: TensorSpec;
  /** The result [..., M] (rows * M elements), f32. */
  readonly out: TensorSpec;
  readonly alpha: number;
  /** Gemm's C, broadcast to the result's shape, times beta. */
  readonly c?: TensorSpec & { readonly beta: number };
  readonly epilogue?: Epilogue;
  /** K rows per loop step (4 or 8). */
  readonly unroll: number;
}

const u = lit.u32;

export function arrangedGemvProblems(s: Omit<ArrangedGemvSpec, 'kernel' | 'target'>): string[] {
  const p: string[] = [];
  if (s.rows < 1) p.push(`${s.rows} activation rows`);
  if (s.tokens < 1 || s.tokens > 16 || s.tokens > s.rows) p.push(`${s.tokens} rows per workgroup (1..16, at most the rows)`);
  if (s.panel < 8 || s.panel > 256 || s.panel % 8 !== 0) p.push(`panel ${s.panel} (a multiple of 8 in 8..256)`);
  if (s.w.dtype !== 'f32' && s.w.dtype !== 'f16') p.push(`weight dtype ${s.w.dtype}`);
  if (s.w.shape.reduce((a, b) => a * b, 1) !== Math.ceil(s.m / s.panel) * s.k * s.panel) p.push(`stored weight [${s.w.shape.join(',')}] for ${s.m} x ${s.k} in panels of ${s.panel}`);
  if (s.out.dtype !== 'f32') p.push(`result dtype ${s.out.dtype}`);
  if (![4, 8].includes(s.unroll)) p.push(`unroll ${s.unroll}`);
  return p;
}

/** Weights per 16-byte load: four f32 or eight f16. */
const perLoad = (w: TensorSpec): 4 | 8 => (w.dtype === 'f16' ? 8 : 4);

/**
 * A panel-stored weight's binding and loads, for a lane owning `per` adjacent outputs of its panel: `base` is the
 * index of the lane's first 16-byte word at k = 0 of panel `wg` ((wg * K + k) * words + lane * loads, words the
 * panel row's), `load` its weights at row `kk` as vec4<f32>s (f16 widened), per / 4 of them.
 */
export function panelWeights(k: KernelBuilder, w: TensorSpec, panel: number, per: number) {
  const loads = per / perLoad(w);
  const words = panel / perLoad(w);
  let load1: (group: Expr) => readonly Expr[];
  if (w.dtype === 'f16') load1 = k.vec8F16Input('w', w);
  else {
    const arr = k.vec4Input('w', w);
    load1 = (g) => [index(arr, g)];
  }
  return {
    base: (wg: Expr, lane: Expr, kk: number): Expr => k.let('base', add(mulConst(wg, kk * words), loads === 1 ? lane : mulConst(lane, loads))),
    load: (base: Expr, row: Expr): readonly Expr[] => {
      const g = add(base, mulConst(row, words));
      return Array.from({ length: loads }, (_, i) => load1(i ? add(g, u(i)) : g)).flat();
    },
  };
}

export const gemvArranged: KernelGen<ArrangedGemvSpec> = (spec) => {
  const bad = arrangedGemvProblems(spec);
  if (bad.length) throw new Error(`arranged GEMV: invalid spec (${bad.join('; ')})`);
  const { rows, m, k: kk, panel } = spec;
  const per = perLoad(spec.w);
  const quads = per / 4;
  const lanes = panel / per;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes });
  // The activation as vec4s when it is f32 and rows are whole vec4s: one load serves four k.
  const xVec = spec.x.dtype === 'f32' && kk % 4 === 0;
  const xArr = xVec ? k.vec4Input('x', spec.x) : undefined;
  const xAcc = xVec ? undefined : k.input('x', spec.x);
  const f32x4 = vecType(4, 'f32');
  const weights = panelWeights(k, spec.w, panel, per);
  const C = spec.c && k.input('c', spec.c);
  const epilogue = declareEpilogue(k, spec.epilogue, spec.out);
  const out = k.output('out', spec.out);

  const T = spec.tokens;
  const blocks = Math.ceil(rows / T);
  const panels = Math.ceil(m / panel);
  const flat = k.workgroupIndex(panels * blocks);
  const wg = blocks === 1 ? flat : k.let('panel', div(flat, u(blocks)));
  const blk = blocks === 1 ? undefined : k.let('blk', mod(flat, u(blocks)));
  // Row s of the block: its activation row (clamped in a ragged last block, whose extra rows store nothing).
  const row = (s: number): Expr => (blk ? builtin('min', add(mulConst(blk, T), u(s)), u(rows - 1)) : u(s));
  const xRow = Array.from({ length: T }, (_, s) => (blk ? k.let('xr', mulConst(row(s), xVec ? kk / 4 : kk)) : u(s * (xVec ? kk / 4 : kk))));
  const xAt = (s: number, p: Expr): Expr => {
    const v = toCompute(xAcc!.load(add(xRow[s]!, p)), xAcc!.value);
    return xAcc!.value === 'f32' || xAcc!.value === 'f16' ? v : convert('f32', v);
  };
  const lane = k.builtinInput('local_invocation_index');
  const base = weights.base(wg, lane, kk);
  // acc[s][q][h]: row s, the lane's q-th four outputs, accumulator h (alternating k; one when rows are blocked).
  const accs = blocks === 1 ? 2 : 1;
  const acc = Array.from({ length: T }, (_, s) =>
    Array.from({ length: quads }, (_, q) => Array.from({ length: accs }, (_, h) => k.var(`acc${s}_${q}_${h}`, f32x4, construct(f32x4, lit.f32(0))))),
  );
  const fma = (s: number, h: number, w: readonly Expr[], xr: Expr): void => {
    for (let q = 0; q < quads; q++) k.compound('+=', acc[s]![q]![h % accs]!, mul(w[q]!, xr));
  };
  const whole = Math.floor(kk / spec.unroll) * spec.unroll;
  const step = (p0: Expr, count: number): void => {
    const w = Array.from({ length: count }, (_, r) => weights.load(base, r ? add(p0, u(r)) : p0).map((e) => k.let('w', e)));
    for (let s = 0; s < T; s++) {
      for (let g = 0; g < count; g += 4) {
        const n = Math.min(4, count - g);
        // p0 and g are multiples of 4 here, so the four rows are one vec4 of the activation.
        const xs = xVec ? k.let('xv', index(xArr!, add(add(xRow[s]!, u(g / 4)), div(p0, u(4))))) : undefined;
        for (let r = 0; r < n; r++) {
          const xr = xs ? member(xs, XYZW[r]!) : xAt(s, g + r ? add(p0, u(g + r)) : p0);
          fma(s, ((g + r) >> 1) & 1, w[g + r]!, xr);
        }
      }
    }
  };
  if (whole > 0) k.for('p', u(0), u(whole), (p) => step(p, spec.unroll), spec.unroll);
  // The last K % unroll rows, one at a time (scalar activation reads: p is not a multiple of 4 in general).
  for (let p = whole; p < kk; p++) {
    const w = weights.load(base, u(p)).map((e) => k.let('w', e));
    for (let s = 0; s < T; s++) {
      const xr = xVec ? index(index(xArr!, add(xRow[s]!, u((p - (p % 4)) / 4))), u(p % 4)) : xAt(s, u(p));
      fma(s, 0, w, xr);
    }
  }

  const j0 = k.let('j0', add(mulConst(wg, panel), mulConst(lane, per)));
  const ragged = m % per !== 0 || m % panel !== 0;
  const raggedRows = rows % T !== 0;
  for (let s = 0; s < T; s++) for (let q = 0; q < quads; q++) {
    const total = accs === 2 ? k.let('y', add(acc[s]![q]![0]!, acc[s]![q]![1]!)) : acc[s]![q]![0]!;
    const rowOut = blk ? k.let('ro', mulConst(add(mulConst(blk, T), u(s)), m)) : u(s * m);
    for (let e = 0; e < 4; e++) {
      const j = q * 4 + e ? add(j0, u(q * 4 + e)) : j0;
      const store = (): void => {
        const flat = k.let('o', add(rowOut, j));
        let v: Expr = member(total, XYZW[e]!);
        if (spec.alpha !== 1) v = mulConstF32(spec.alpha, v);
        if (C && spec.c) {
          const cv = toCompute(C.loadBroadcast(spec.out.shape, flat), C.value);
          v = add(v, spec.c.beta === 1 ? cv : mulConstF32(spec.c.beta, cv));
        }
        out.store(flat, fromCompute(epilogue(v, flat), out.value));
      };
      const inRows = raggedRows ? lt(add(mulConst(blk!, T), u(s)), u(rows)) : undefined;
      const inCols = ragged ? lt(j, u(m)) : undefined;
      const guard = inRows && inCols ? binary('&&', inRows, inCols) : (inRows ?? inCols);
      if (guard) k.if(guard, store);
      else store();
    }
  }
  return k.finish();
};

/** FLOPs of the product (2 per multiply-add). */
export const arrangedGemvFlops = (s: ArrangedGemvSpec): number => 2 * s.rows * s.m * s.k;
