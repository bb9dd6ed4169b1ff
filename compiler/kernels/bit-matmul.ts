// BitMatMul (ir/ops/bit-matmul.ts) as papers.md §3's bit-plane product, in two kernels:
//   bit-planes   codes [rows, K] (i<b>/u<b>, packed in words) -> planes u32 [rows][b][KW], KW = ceil(K / 32): word
//                w of plane p of a row holds bit p of codes 32w .. 32w+31 (two's complement bits for i<b>), LSB
//                first, the tail past K zero. One invocation per (row, word).
//   bit-matmul   y[r, m(, g)] = sum over plane pairs (i, j) of c_i * c_j * dot_ij, each 1-bit dot over the
//                group's words: popc(w & a) for two 0/1 digit planes; 2 popc(w & a) - popc(a) when w's digits are
//                ±1 (bipolar); 2 popc(w & a) - popc(w) when a's are; popc(mask) - 2 popc((w ^ a) & mask) when both
//                are (the true length, not 32 x words: §3.3's pitfall). c_i = 2^i, but -2^(b-1) for a
//                two's-complement MSB. A word's mask keeps the bits of the group (and of K). One invocation per
//                output; i32 accumulators, exact (the op bounds every sum below 2^31).
// This is the exact path the spec is checked against; the fast decode and prefill kernels build on its layout.
import { dtypeInfo } from '../../ir/dtype.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, and, bitcast, builtin, div, lit, lt, mod, mul, mulConst, select, shl, shr, sub, xor } from '../wgsl/dsl.js';
import type { TensorSpec } from './lib/index.js';
import type { BitProductShape } from './lib/int-gemv.js';

const u = lit.u32;

export interface BitPlanesSpec extends KernelSpecBase {
  readonly kernel: 'bit-planes';
  /** The codes, [rows, K] (any leading shape flattened into rows). */
  readonly codes: TensorSpec;
  readonly k: number;
  /** u32 [rows * bits * ceil(K / 32)]. */
  readonly planes: TensorSpec;
}

export const planeWords = (k: number): number => Math.ceil(k / 32);

export const bitPlanes: KernelGen<BitPlanesSpec> = (spec) => {
  const bits = dtypeInfo(spec.codes.dtype).bits;
  const kw = planeWords(spec.k);
  const rows = spec.codes.shape.reduce((a, b) => a * b, 1) / spec.k;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const codes = k.input('codes', spec.codes);
  const planes = k.output('planes', spec.planes);
  const i = k.globalIndex(rows * kw);
  k.if(lt(i, u(rows * kw)), () => {
    const row = k.let('row', div(i, u(kw)));
    const word = k.let('word', mod(i, u(kw)));
    const words = Array.from({ length: bits }, () => k.var('p', T.u32, u(0)));
    const first = k.let('k0', mul(word, u(32)));
    const n = k.let('n', builtin('min', u(32), sub(u(spec.k), first)));
    k.for('j', u(0), n, (j) => {
      const raw = codes.load(add(mulConst(row, spec.k), add(first, j)));
      // The code's low `bits` bits: a signed code's two's complement.
      const c = k.let('c', codes.value === 'i32' ? and(bitcast('u32', raw), u(2 ** bits - 1)) : raw);
      for (let p = 0; p < bits; p++) k.compound('|=', words[p]!, shl(and(shr(c, u(p)), u(1)), j));
    });
    for (let p = 0; p < bits; p++) planes.store(add(mulConst(add(mulConst(row, bits), u(p)), kw), word), words[p]!);
  });
  return k.finish();
};

/** a and w are planes (rows x aBits x KW and m x wBits x KW words); out is i32 [rows, m, groups]. */
export interface BitMatMulSpec extends BitProductShape {
  readonly kernel: 'bit-matmul';
  readonly aBits: number;
  readonly wBits: number;
  /** How a plane's bits read: 'bipolar' (digits ±1), 'unsigned' (0/1), 'signed' (0/1, MSB weighs -2^(b-1)). */
  readonly aDigits: 'bipolar' | 'unsigned' | 'signed';
  readonly wDigits: 'bipolar' | 'unsigned' | 'signed';
}

const planeCoeff = (p: number, bits: number, digits: BitMatMulSpec['aDigits']): number => (digits === 'signed' && p === bits - 1 ? -(2 ** p) : 2 ** p);

export const bitMatMul: KernelGen<BitMatMulSpec> = (spec) => {
  const kw = planeWords(spec.k);
  const groups = Math.ceil(spec.k / spec.group);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const A = k.input('a', spec.a);
  const W = k.input('w', spec.w);
  const out = k.output('out', spec.out);
  const total = spec.rows * spec.m * groups;
  const i = k.globalIndex(total);
  const popc = (e: Expr): Expr => bitcast('i32', builtin('countOneBits', e));
  k.if(lt(i, u(total)), () => {
    const g = k.let('g', mod(i, u(groups)));
    const j = k.let('j', mod(div(i, u(groups)), u(spec.m)));
    const r = k.let('r', div(i, u(groups * spec.m)));
    const lo = k.let('lo', mulConst(g, spec.group));
    const hi = k.let('hi', builtin('min', add(lo, u(spec.group)), u(spec.k)));
    const acc = k.var('acc', T.i32, lit.i32(0));
    k.for('word', div(lo, u(32)), div(add(hi, u(31)), u(32)), (word) => {
      // Bits of this word inside [lo, hi): ones from max(lo, 32w) to min(hi, 32w + 32), relative to 32w.
      const base = k.let('b', mulConst(word, 32));
      const from = k.let('f', sub(builtin('max', lo, base), base));
      const to = k.let('t', sub(builtin('min', hi, add(base, u(32))), base));
      const upto = (n: Expr): Expr => select(lt(n, u(32)), sub(shl(u(1), n), u(1)), u(0xffffffff));
      const mask = k.let('mask', and(upto(to), sub(u(0xffffffff), upto(from))));
      const aw = Array.from({ length: spec.aBits }, (_, q) => k.let('aw', and(A.load(add(mulConst(add(mulConst(r, spec.aBits), u(q)), kw), word)), mask)));
      const ww = Array.from({ length: spec.wBits }, (_, p) => k.let('ww', and(W.load(add(mulConst(add(mulConst(j, spec.wBits), u(p)), kw), word)), mask)));
      const len = spec.aDigits === 'bipolar' && spec.wDigits === 'bipolar' ? k.let('len', popc(mask)) : undefined;
      for (let p = 0; p < spec.wBits; p++)
        for (let q = 0; q < spec.aBits; q++) {
          const [wv, av] = [ww[p]!, aw[q]!];
          let dot: Expr;
          if (len) dot = sub(len, mul(lit.i32(2), popc(xor(wv, av))));
          else if (spec.wDigits === 'bipolar') dot = sub(mul(lit.i32(2), popc(and(wv, av))), popc(av));
          else if (spec.aDigits === 'bipolar') dot = sub(mul(lit.i32(2), popc(and(wv, av))), popc(wv));
          else dot = popc(and(wv, av));
          const c = planeCoeff(p, spec.wBits, spec.wDigits) * planeCoeff(q, spec.aBits, spec.aDigits);
          k.compound('+=', acc, c === 1 ? dot : mul(lit.i32(c), dot));
        }
    });
    out.store(i, acc);
  });
  return k.finish();
};

/** Bit operations of the product, counted as FLOP-equivalents: one per plane pair per word per output. */
export const bitMatMulOps = (s: BitMatMulSpec): number => s.rows * s.m * planeWords(s.k) * s.aBits * s.wBits * 2;
