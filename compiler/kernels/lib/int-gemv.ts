// The skeleton the integer BitMatMul GEMVs share (bit-gemv.ts: dot4I8Packed; xor-gemv.ts: XOR and countOneBits):
// codes bound as vec4<u32> words, one workgroup per (block of 64 * R output rows, activation row), a lane owning R
// adjacent rows (rows past M read row M - 1 and store nothing), i32 sums stored per output or per (output, group).
import type { KernelSpecBase } from '../../kernel-spec.js';
import type { Expr } from '../../wgsl/ast.js';
import { KernelBuilder } from '../../wgsl/build.js';
import { add, builtin, div, lit, lt, mod, mulConst } from '../../wgsl/dsl.js';
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
  /** i32 [rows, M] or [rows, M, G]. */
  readonly out: TensorSpec;
}

/** What both integer GEMVs take: the product with its codes as u32 words, and the output rows per lane. */
export interface IntGemvShape extends BitProductShape {
  readonly perLane: number;
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
  /** Store lane row r's sum for group g. */
  store(r: number, g: Expr, value: Expr): void;
}

/** Declares the bindings and the lane's rows; one vec4 holds `aCodes` activation codes and `wCodes` weight codes. */
export function intGemvSkeleton(spec: IntGemvShape, aCodes: number, wCodes: number): IntGemvSkeleton {
  const { rows, m, k: K, perLane: R } = spec;
  const groups = Math.ceil(K / Math.min(spec.group, K));
  const k = new KernelBuilder({ target: spec.target, workgroupSize: INT_GEMV_LANES });
  const A = k.vec4Input('a', spec.a);
  const W = k.vec4Input('w', spec.w);
  const out = k.output('out', spec.out);
  const flat = k.workgroupIndex(Math.ceil(m / (INT_GEMV_LANES * R)) * rows);
  const cb = rows === 1 ? flat : k.let('cb', div(flat, u(rows)));
  const row = rows === 1 ? u(0) : k.let('row', mod(flat, u(rows)));
  const lane = k.builtinInput('local_invocation_index');
  const j0 = k.let('j0', add(mulConst(cb, INT_GEMV_LANES * R), mulConst(lane, R)));
  const jr = Array.from({ length: R }, (_, r) => k.let('jr', builtin('min', r ? add(j0, u(r)) : j0, u(m - 1))));
  const wBase = jr.map((j) => k.let('wb', mulConst(j, K / wCodes)));
  const aBase = k.let('ab', mulConst(row, K / aCodes));
  const store = (r: number, g: Expr, value: Expr): void => {
    const j = r ? add(j0, u(r)) : j0;
    const o = groups === 1 ? add(mulConst(row, m), j) : add(mulConst(add(mulConst(row, m), j), groups), g);
    if (m % (INT_GEMV_LANES * R) !== 0 || R > 1) k.if(lt(j, u(m)), () => out.store(o, value));
    else out.store(o, value);
  };
  return { k, A, W, aBase, wBase, groups, store };
}

/** What the skeleton cannot take: K or the group not whole vec4s of weight codes, other bindings. */
export function intGemvProblems(s: Omit<IntGemvShape, 'kernel' | 'target'>, wCodes: number): string[] {
  const p: string[] = [];
  if (s.k % wCodes !== 0) p.push(`K = ${s.k} is not a multiple of ${wCodes}`);
  if (s.group < s.k && s.group % wCodes !== 0) p.push(`group ${s.group} is not a multiple of ${wCodes}`);
  if (s.a.dtype !== 'u32' || s.w.dtype !== 'u32') p.push('codes must be bound as u32 words');
  if (s.out.dtype !== 'i32') p.push(`result dtype ${s.out.dtype}`);
  return p;
}

/** Integer multiply-adds, counted as 2 ops each. */
export const intGemvOps = (s: IntGemvShape): number => 2 * s.rows * s.m * s.k;
