// The 1-bit bipolar BitMatMul GEMV: y[s, j(, g)] = sum_k a[s, k] * w[j, k] for bipolar codes (bit u stands for
// 2u - 1: +1 or -1) of both operands, as XOR and countOneBits over the packed words (papers.md §3, the XOR path of
// bipolar x bipolar): a product is +1 where the bits agree and -1 where they differ, so a group of n codes sums to
// n - 2 * popcount(a XOR w). Codes are read as the u32 words they are packed in (code k at bit k % 32 of word
// k / 32). A lane owns R adjacent output rows (lib/int-gemv.ts) and walks K in steps of one 16-byte word of codes
// per row (128 codes); the step's activation vec4 is shared by the R rows.
import type { KernelGen } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { add, builtin, construct, div, index, lit, member, mul, mulConst, sub, vecType, xor } from '../wgsl/dsl.js';
import { XYZW } from './lib/index.js';
import { type IntGemvShape, intGemvOps, intGemvProblems, intGemvSkeleton } from './lib/int-gemv.js';

/** Activation codes as u32 words [rows * K / 32]; weight codes as u32 words [M * K / 32]. */
export interface XorGemvSpec extends IntGemvShape {
  readonly kernel: 'xor-gemv';
}

const u = lit.u32;
/** Codes per 16-byte step of one row. */
export const XOR_STEP = 128;

export const xorGemvProblems = (s: Omit<XorGemvSpec, 'kernel' | 'target'>): string[] => intGemvProblems(s, XOR_STEP);

export const xorGemv: KernelGen<XorGemvSpec> = (spec) => {
  const bad = xorGemvProblems(spec);
  if (bad.length) throw new Error(`XOR GEMV: invalid spec (${bad.join('; ')})`);
  const group = Math.min(spec.group, spec.k);
  const R = spec.perLane;
  const { k, A, W, aBase, wBase, eachGroup } = intGemvSkeleton(spec, XOR_STEP, XOR_STEP);
  const u4 = vecType(4, 'u32');
  const i32 = { kind: 'scalar', scalar: 'i32' } as const;
  eachGroup((g) => {
    // Per row, the differing bits counted per word component; summed once per group.
    const acc = Array.from({ length: R }, () => k.var('acc', u4, construct(u4, u(0))));
    const start = k.let('k0', mulConst(g, group));
    // The last group may be short (K a multiple of the step, not of the group).
    const ragged = spec.k % group !== 0;
    const end = ragged ? k.let('k1', builtin('min', add(start, u(group)), u(spec.k))) : add(start, u(group));
    const n = ragged ? { kind: 'bitcast' as const, type: i32, arg: sub(end, start) } : lit.i32(group);
    const stepAt = (p: Expr): void => {
      const av = k.let('av', index(A, add(aBase, div(p, u(XOR_STEP)))));
      for (let r = 0; r < R; r++) k.compound('+=', acc[r]!, builtin('countOneBits', xor(index(W, add(wBase[r]!, div(p, u(XOR_STEP)))), av)));
    };
    // A group of a few steps is unrolled (no loop per group).
    if (!ragged && group / XOR_STEP <= 4) for (let i = 0; i < group / XOR_STEP; i++) stepAt(i ? add(start, u(i * XOR_STEP)) : start);
    else k.for('p', start, end, stepAt, XOR_STEP);
    return acc.map((a) => {
      const ones = add(add(member(a, XYZW[0]!), member(a, XYZW[1]!)), add(member(a, XYZW[2]!), member(a, XYZW[3]!)));
      return sub(n, mul(lit.i32(2), { kind: 'bitcast', type: i32, arg: ones }));
    });
  });
  return k.finish();
};

export const xorGemvOps = intGemvOps;
