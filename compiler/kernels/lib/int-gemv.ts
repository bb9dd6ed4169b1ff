// The skeleton the integer BitMatMul GEMVs share (bit-gemv.ts: dot4I8Packed; xor-gemv.ts: XOR and countOneBits):
// codes bound as vec4<u32> words, one workgroup per (block of 64 * R output rows, activation row), a lane owning R
// adjacent rows (rows past M read row M - 1 and store nothing), i32 sums stored per output or per (output, group);
// or, with `scaling`, the sums scaled in registers before one f32 store per output (the chain bitpack writes after
// a BitMatMul: Cast, times the weight's per-row/per-group scales, ReduceSum over the groups, times the activation
// row's scale; then any fused elementwise epilogue): the i32 sums never reach memory.
import type { KernelSpecBase } from '../../kernel-spec.js';
import type { Expr } from '../../wgsl/ast.js';
import { KernelBuilder } from '../../wgsl/build.js';
import { add, builtin, construct, div, lit, lt, mod, mul, mulConst } from '../../wgsl/dsl.js';
import { type Epilogue, declareEpilogue, epilogueBindings } from '../matmul-epilogue.js';
import type { TensorSpec } from './tensor.js';

/** An integer BitMatMul kernel's product: rows x K activations by M x K weights, in groups along K. */
export interface BitProductShape extends KernelSpecBase {
  readonly rows: number;
  readonly m: number;
  readonly k: number;
  /** K per sum (K: one sum per output). */
  readonly group: number;
  /** The operands as u32 words (codes, or their bit planes), K contiguous per row. */
  readonly a: TensorSpec;
  readonly w: TensorSpec;
  /** i32 [rows, M] or [rows, M, G]; with `scaling`, f32 [rows, M]. */
  readonly out: TensorSpec;
}

/** The float scaling fused after the integer sums: out[s, j] = epilogue(xs[s] * sum_g f32(sum[s, j, g]) * ws[j, g]). */
export interface IntGemvScaling {
  /** f32 [M, G] (or [M]): the weight's scales. */
  readonly scales: TensorSpec;
  /** f32 [rows] (any shape of that many elements): the activation rows' scales. */
  readonly rowScales: TensorSpec;
  readonly epilogue?: Epilogue;
}

/** What both integer GEMVs take: the product with its codes as u32 words, and the output rows per lane. */
export interface IntGemvShape extends BitProductShape {
  readonly perLane: number;
  readonly scaling?: IntGemvScaling;
}

const u = lit.u32;
export const INT_GEMV_LANES = 64;

export interface IntGemvSkeleton {
  readonly k: KernelBuilder;
  readonly A: Expr;
  readonly W: Expr;
  /** The activation row's first vec4 and each of the lane's weight rows' first vec4. */
  readonly aBase: Expr;
  readonly wBase: readonly Expr[];
  readonly groups: number;
  /** Loops over the groups; `body` emits one group's product and returns the lane rows' i32 sums. */
  eachGroup(body: (g: Expr) => readonly Expr[]): void;
}

/** Declares the bindings and the lane's rows; one vec4 holds `aCodes` activation codes and `wCodes` weight codes. */
export function intGemvSkeleton(spec: IntGemvShape, aCodes: number, wCodes: number): IntGemvSkeleton {
  const { rows, m, k: K, perLane: R, scaling } = spec;
  const groups = Math.ceil(K / Math.min(spec.group, K));
  const k = new KernelBuilder({ target: spec.target, workgroupSize: INT_GEMV_LANES });
  const A = k.vec4Input('a', spec.a);
  const W = k.vec4Input('w', spec.w);
  const ws = scaling && k.input('scales', scaling.scales);
  const xs = scaling && k.input('row_scales', scaling.rowScales);
  const epilogue = scaling && declareEpilogue(k, scaling.epilogue, spec.out);
  const out = k.output('out', spec.out);
  const flat = k.workgroupIndex(Math.ceil(m / (INT_GEMV_LANES * R)) * rows);
  const cb = rows === 1 ? flat : k.let('cb', div(flat, u(rows)));
  const row = rows === 1 ? u(0) : k.let('row', mod(flat, u(rows)));
  const lane = k.builtinInput('local_invocation_index');
  const j0 = k.let('j0', add(mulConst(cb, INT_GEMV_LANES * R), mulConst(lane, R)));
  const jr = Array.from({ length: R }, (_, r) => k.let('jr', builtin('min', r ? add(j0, u(r)) : j0, u(m - 1))));
  const wBase = jr.map((j) => k.let('wb', mulConst(j, K / wCodes)));
  const aBase = k.let('ab', mulConst(row, K / aCodes));
  const store = (r: number, o: Expr, value: Expr): void => {
    const j = r ? add(j0, u(r)) : j0;
    if (m % (INT_GEMV_LANES * R) !== 0 || R > 1) k.if(lt(j, u(m)), () => out.store(o, value));
    else out.store(o, value);
  };
  const outAt = (r: number): Expr => add(mulConst(row, m), r ? add(j0, u(r)) : j0);
  const f32 = { kind: 'scalar', scalar: 'f32' } as const;
  const eachGroup = (body: (g: Expr) => readonly Expr[]): void => {
    if (!ws || !xs || !epilogue) {
      k.for('g', u(0), u(groups), (g) => body(g).forEach((sum, r) => store(r, groups === 1 ? outAt(r) : add(mulConst(outAt(r), groups), g), sum)));
      return;
    }
    // Per lane row, the scaled group sums in f32 (the interpreter's ReduceSum adds them in the same order).
    const tot = Array.from({ length: R }, () => k.var('tot', f32, lit.f32(0)));
    k.for('g', u(0), u(groups), (g) =>
      body(g).forEach((sum, r) => k.compound('+=', tot[r]!, mul(construct(f32, sum), ws.load(groups === 1 ? jr[r]! : add(mulConst(jr[r]!, groups), g))))),
    );
    const rs = k.let('rs', xs.load(row));
    for (let r = 0; r < R; r++) {
      const o = k.let('o', outAt(r));
      store(r, o, epilogue(mul(tot[r]!, rs), o));
    }
  };
  return { k, A, W, aBase, wBase, groups, eachGroup };
}

/** What the skeleton cannot take: K or the group not whole vec4s of weight codes, other bindings. */
export function intGemvProblems(s: Omit<IntGemvShape, 'kernel' | 'target'>, wCodes: number): string[] {
  const p: string[] = [];
  if (s.k % wCodes !== 0) p.push(`K = ${s.k} is not a multiple of ${wCodes}`);
  if (s.group < s.k && s.group % wCodes !== 0) p.push(`group ${s.group} is not a multiple of ${wCodes}`);
  if (s.a.dtype !== 'u32' || s.w.dtype !== 'u32') p.push('codes must be bound as u32 words');
  const scaled = s.scaling !== undefined;
  if (s.out.dtype !== (scaled ? 'f32' : 'i32')) p.push(`result dtype ${s.out.dtype}${scaled ? ' (scaled: f32)' : ''}`);
  if (s.scaling) {
    const groups = Math.ceil(s.k / Math.min(s.group, s.k));
    const n = (t: TensorSpec): number => t.shape.reduce((a, b) => a * b, 1);
    if (s.scaling.scales.dtype !== 'f32' || n(s.scaling.scales) !== s.m * groups) p.push(`weight scales must be f32 [${s.m}${groups > 1 ? `, ${groups}` : ''}]`);
    if (s.scaling.rowScales.dtype !== 'f32' || n(s.scaling.rowScales) !== s.rows) p.push(`row scales must be ${s.rows} f32 values`);
    if (n(s.out) !== s.rows * s.m) p.push(`scaled result must hold ${s.rows} x ${s.m} values`);
    if (4 + epilogueBindings(s.scaling.epilogue) + 1 > 8) p.push('more than 8 storage bindings');
  }
  return p;
}

/** Integer multiply-adds, counted as 2 ops each. */
export const intGemvOps = (s: IntGemvShape): number => 2 * s.rows * s.m * s.k;
