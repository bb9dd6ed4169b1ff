// The integer BitMatMul GEMV: y[s, j(, g)] = sum_k a[s, k] * w[j, k] exactly (i32), for 8-bit two's-complement
// activation codes (QuantizeRows' a8) and 8, 4 or 2-bit two's-complement weight codes, with WGSL's
// dot4I8Packed (four int8 products summed per call) instead of bit planes. Codes are read as the u32 words they
// are packed in (LSB first: activation k at byte k % 4 of word k / 4; weight k at bits n * (k % L) of word k / L).
// A lane owns R adjacent output rows and walks K in steps of one 16-byte word of codes per row (16, 32 or 64 codes);
// the step's activation words (1, 2 or 4 vec4 loads) are shared by its R rows.
//   w8  each weight word is four int8 codes in activation order: one dot4I8Packed per word.
//   w4  the word is XORed with 0x88888888, which maps each code q to q + 8 in 0..15 (two's complement), then
//       split into the bytes of its even and odd nibbles (codes k, k+2, k+4, k+6 and k+1, ...); the activation
//       words are regrouped the same way (shared by the rows), and 8 * sum(a) is subtracted per group.
//   w2  XOR 0xAAAAAAAA maps q to q + 2; four byte groups (codes j, j+4, j+8, j+12) against the activation words'
//       byte j's; 2 * sum(a) subtracted.
// Intermediate sums may wrap, the result does not (BitMatMul bounds it below 2^31), and i32 arithmetic wraps, so
// the integers are exact. One workgroup per (block of 64 R rows, activation row).
import type { KernelGen } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { add, and, builtin, div, index, lit, member, mul, mulConst, or, shl, shr, sub, xor } from '../wgsl/dsl.js';
import { XYZW, subgroupShareLane, subgroupShared } from './lib/index.js';
import { type IntGemvShape, intGemvOps, intGemvProblems, intGemvSkeleton } from './lib/int-gemv.js';

/** Activation codes as u32 words [rows * K / 4]; weight codes as u32 words [M * K * wBits / 32]. */
export interface BitGemvSpec extends IntGemvShape {
  readonly kernel: 'bit-gemv';
  readonly wBits: 2 | 4 | 8;
}

const u = lit.u32;

/** Codes per 16-byte step of one weight row. */
export const bitGemvStep = (wBits: number): number => (4 * 32) / wBits;

export function bitGemvProblems(s: Omit<BitGemvSpec, 'kernel' | 'target'>): string[] {
  return [...(![2, 4, 8].includes(s.wBits) ? [`${s.wBits}-bit weights (2, 4 or 8)`] : []), ...intGemvProblems(s, bitGemvStep(s.wBits))];
}

export const bitGemv: KernelGen<BitGemvSpec> = (spec) => {
  const bad = bitGemvProblems(spec);
  if (bad.length) throw new Error(`bit GEMV: invalid spec (${bad.join('; ')})`);
  const { k: K, wBits, perLane: R } = spec;
  const step = bitGemvStep(wBits);
  const group = Math.min(spec.group, K);
  // An activation vec4 holds 16 int8 codes, a weight vec4 one step.
  const { k, A, W, aBase, wBase, eachGroup } = intGemvSkeleton(spec, 16, step);
  const ones = u(0x01010101);
  const dot = (x: Expr, y: Expr): Expr => builtin('dot4I8Packed', x, y);
  const i32 = (v: number): Expr => lit.i32(v);
  // Activations shared through the subgroup one step at a time, where a step takes more than one activation vec4
  // (w4: 2, w2: 4; w8's one vec4 gains nothing) and the target has subgroups. Chunks of several steps unrolled ran
  // slower (bench:bits 4096 x 4096 on lavapipe: w4a8 3.4 -> 6.5 ms, w8a8 4.3 -> 10.6 with 64-code chunks).
  const sharers = step / 16;
  const sgShare = !!spec.target.subgroups && sharers > 1;

  eachGroup((g) => {
    const acc = Array.from({ length: R }, () => k.var('acc', { kind: 'scalar', scalar: 'i32' }, i32(0)));
    const sa = wBits === 8 ? undefined : k.var('sa', { kind: 'scalar', scalar: 'i32' }, i32(0));
    const start = k.let('k0', mulConst(g, group));
    const end = K % group === 0 ? add(start, u(group)) : builtin('min', add(start, u(group)), u(K));
    // One step: the rows' weight words against the step's activation vec4s `av` (step / 16 of them).
    const stepAt = (p: Expr, av: readonly Expr[]): void => {
      const aw = (i: number): Expr => member(av[i >> 2]!, XYZW[i & 3]!);
      // Per weight-word component c: the activation words its codes pair with, regrouped as the codes are.
      const pairs: Expr[][] = [];
      for (let c = 0; c < 4; c++) {
        if (wBits === 8) pairs.push([aw(c)]);
        else if (wBits === 4) {
          const [a0, a1] = [aw(2 * c), aw(2 * c + 1)];
          // Bytes (k, k+2, k+4, k+6) and (k+1, k+3, k+5, k+7) of the eight activations a0 | a1.
          const even = or(or(and(a0, u(0xff)), and(shr(a0, u(8)), u(0xff00))), or(and(shl(a1, u(16)), u(0xff0000)), and(shl(a1, u(8)), u(0xff000000))));
          const odd = or(or(and(shr(a0, u(8)), u(0xff)), and(shr(a0, u(16)), u(0xff00))), or(and(shl(a1, u(8)), u(0xff0000)), and(a1, u(0xff000000))));
          pairs.push([k.let('ae', even), k.let('ao', odd)]);
        } else {
          const ws = [0, 1, 2, 3].map((i) => aw(4 * c + i));
          // Byte j of each of the four activation words: codes j, j+4, j+8, j+12.
          pairs.push(
            [0, 1, 2, 3].map((j) =>
              k.let(
                'at',
                or(
                  or(and(shr(ws[0]!, u(8 * j)), u(0xff)), and(j > 1 ? shr(ws[1]!, u(8 * j - 8)) : shl(ws[1]!, u(8 - 8 * j)), u(0xff00))),
                  or(and(j > 2 ? shr(ws[2]!, u(8 * j - 16)) : shl(ws[2]!, u(16 - 8 * j)), u(0xff0000)), and(shl(ws[3]!, u(24 - 8 * j)), u(0xff000000))),
                ),
              ),
            ),
          );
        }
      }
      if (sa) for (let i = 0; i < step / 4; i++) k.compound('+=', sa, dot(aw(i), ones));
      for (let r = 0; r < R; r++) {
        const wv = k.let('wv', index(W, add(wBase[r]!, div(p, u(step)))));
        for (let c = 0; c < 4; c++) {
          const word = member(wv, XYZW[c]!);
          if (wBits === 8) k.compound('+=', acc[r]!, dot(word, pairs[c]![0]!));
          else if (wBits === 4) {
            const off = k.let('wo', xor(word, u(0x88888888)));
            k.compound('+=', acc[r]!, add(dot(and(off, u(0x0f0f0f0f)), pairs[c]![0]!), dot(and(shr(off, u(4)), u(0x0f0f0f0f)), pairs[c]![1]!)));
          } else {
            const off = k.let('wo', xor(word, u(0xaaaaaaaa)));
            const parts = [0, 1, 2, 3].map((j) => dot(and(j ? shr(off, u(2 * j)) : off, u(0x03030303)), pairs[c]![j]!));
            k.compound('+=', acc[r]!, add(add(parts[0]!, parts[1]!), add(parts[2]!, parts[3]!)));
          }
        }
      }
    };
    if (sgShare) {
      // Every lane needs the same activation words: `sharers` lanes load them, all get them (lib/subgroup-share.ts).
      const lane = subgroupShareLane(k, sharers);
      k.for('p', start, end, (p) => stepAt(p, subgroupShared(k, lane, sharers, (i) => index(A, add(add(aBase, div(p, u(16))), i)))), step);
    } else
      k.for('p', start, end, (p) => stepAt(p, Array.from({ length: step / 16 }, (_, v) => k.let('av', index(A, add(add(aBase, div(p, u(16))), u(v)))))), step);
    const offset = wBits === 4 ? 8 : 2;
    return acc.map((a) => (sa ? sub(a, mul(i32(offset), sa)) : a));
  });
  return k.finish();
};

export const bitGemvOps = intGemvOps;
