// The 1-bit bipolar BitMatMul GEMV: y[s, j(, g)] = sum_k a[s, k] * w[j, k] for bipolar codes (bit u stands for
// 2u - 1: +1 or -1) of both operands, as XOR and countOneBits over the packed words (papers.md §3, the XOR path of
// bipolar x bipolar): a product is +1 where the bits agree and -1 where they differ, so a group of n codes sums to
// n - 2 * popcount(a XOR w). Codes are read as the u32 words they are packed in (code k at bit k % 32 of word
// k / 32). A lane owns R adjacent output rows and walks K in steps of one 16-byte word of codes per row (128 codes);
// the step's activation vec4 is shared by the R rows. One workgroup per (block of 64 R rows, activation row).
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, construct, div, index, lit, lt, member, mod, mul, mulConst, sub, vecType, xor } from '../wgsl/dsl.js';
import { type TensorSpec, XYZW } from './lib/index.js';

export interface XorGemvSpec extends KernelSpecBase {
  readonly kernel: 'xor-gemv';
  readonly rows: number;
  readonly m: number;
  readonly k: number;
  /** K per sum (K: one sum per output). */
  readonly group: number;
  /** Activation codes as u32 words [rows * K / 32]; weight codes as u32 words [M * K / 32]. */
  readonly a: TensorSpec;
  readonly w: TensorSpec;
  /** i32 [rows, M] or [rows, M, G]. */
  readonly out: TensorSpec;
  readonly perLane: number;
}

const u = lit.u32;
const LANES = 64;
/** Codes per 16-byte step of one row. */
export const XOR_STEP = 128;

export function xorGemvProblems(s: Omit<XorGemvSpec, 'kernel' | 'target'>): string[] {
  const p: string[] = [];
  if (s.k % XOR_STEP !== 0) p.push(`K = ${s.k} is not a multiple of ${XOR_STEP}`);
  if (s.group < s.k && s.group % XOR_STEP !== 0) p.push(`group ${s.group} is not a multiple of ${XOR_STEP}`);
  if (s.a.dtype !== 'u32' || s.w.dtype !== 'u32') p.push('codes must be bound as u32 words');
  if (s.out.dtype !== 'i32') p.push(`result dtype ${s.out.dtype}`);
  return p;
}

export const xorGemv: KernelGen<XorGemvSpec> = (spec) => {
  const bad = xorGemvProblems(spec);
  if (bad.length) throw new Error(`XOR GEMV: invalid spec (${bad.join('; ')})`);
  const { rows, m, k: K, perLane: R } = spec;
  const group = Math.min(spec.group, K);
  const groups = K / group;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: LANES });
  const A = k.vec4Input('a', spec.a);
  const W = k.vec4Input('w', spec.w);
  const out = k.output('out', spec.out);
  const colBlocks = Math.ceil(m / (LANES * R));
  const flat = k.workgroupIndex(colBlocks * rows);
  const cb = rows === 1 ? flat : k.let('cb', div(flat, u(rows)));
  const row = rows === 1 ? u(0) : k.let('row', mod(flat, u(rows)));
  const lane = k.builtinInput('local_invocation_index');
  const j0 = k.let('j0', add(mulConst(cb, LANES * R), mulConst(lane, R)));
  // Rows past M (a ragged last block) read row M - 1 and store nothing.
  const jr = Array.from({ length: R }, (_, r) => k.let('jr', builtin('min', r ? add(j0, u(r)) : j0, u(m - 1))));
  const wBase = jr.map((j) => k.let('wb', mulConst(j, K / XOR_STEP)));
  const aBase = k.let('ab', mulConst(row, K / XOR_STEP));
  const u4 = vecType(4, 'u32');

  k.for('g', u(0), u(groups), (g) => {
    // Per row, the differing bits counted per word component; summed once per group.
    const acc = Array.from({ length: R }, () => k.var('acc', u4, construct(u4, u(0))));
    const start = k.let('k0', mulConst(g, group));
    k.for('p', start, add(start, u(group)), (p) => {
      const av = k.let('av', index(A, add(aBase, div(p, u(XOR_STEP)))));
      for (let r = 0; r < R; r++) k.compound('+=', acc[r]!, builtin('countOneBits', xor(index(W, add(wBase[r]!, div(p, u(XOR_STEP)))), av)));
    }, XOR_STEP);
    for (let r = 0; r < R; r++) {
      const j = r ? add(j0, u(r)) : j0;
      const ones: Expr = add(add(member(acc[r]!, XYZW[0]!), member(acc[r]!, XYZW[1]!)), add(member(acc[r]!, XYZW[2]!), member(acc[r]!, XYZW[3]!)));
      const value = sub(lit.i32(group), mul(lit.i32(2), { kind: 'bitcast', type: { kind: 'scalar', scalar: 'i32' }, arg: ones }));
      const o = groups === 1 ? add(mulConst(row, m), j) : add(mulConst(add(mulConst(row, m), j), groups), g);
      if (m % (LANES * R) !== 0 || R > 1) k.if(lt(j, u(m)), () => out.store(o, value));
      else out.store(o, value);
    }
  });
  return k.finish();
};

/** Integer multiply-adds, counted as 2 ops each. */
export const xorGemvOps = (s: XorGemvSpec): number => 2 * s.rows * s.m * s.k;
