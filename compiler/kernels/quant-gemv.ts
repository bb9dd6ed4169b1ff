// The quant GEMV: y[s, j] = alpha * sum_k x[s, k] * W[j, k] (+ beta * C) -> epilogue, reading a quant-encoded weight
// (ir/encoding.ts) in place: W[j][k] = scale[j, g] * (code[j][k] - zero[j, g]), codes of any width from 1 to 8
// bits stored row by row along K, L = floor(32 / bits) to a u32 word (the top 32 % bits bits unused), element i at
// bits [bits * (i % L), ...) (the codec's packing; imports and bitpack write exactly this); K a multiple of L, so
// every row starts on a word. Nothing is widened to float in memory: the codes are decoded
// in registers. A lane owns R adjacent output rows and walks all of K itself, one step at a time: per row one
// 16-byte load (vec4<u32>: 4L codes; one u32 word when K or the group is not a multiple of 4L), the 4L (or L)
// activation values as vec4 loads shared by its R rows, so a step makes R + T * 4L / 4 loads for 4L * R * T
// multiply-adds (on lavapipe every load is a per-lane loop, so loads per multiply-add set the rate). No workgroup
// memory, no barrier. Scales and zero points apply once per group, by linearity:
//   sum_k x_k * s * (q_k - z) = s * (sum_k x_k * q_k - z * sum_k x_k)
// so the inner loop is a float multiply-add of codes; `sum x` over the group is kept per activation row.
// Word component c of a step holds codes k0 + c * L + i (i < L); the activation values those pair with are picked
// from the step's vec4 loads by component (register moves), so each code is one shift, one mask, one convert and
// one multiply-add, four at a time.
// Rows as components (`byRows`) may read the codes in the quad layout arrange-layout gives them (16-byte blocks of
// 4 rows per step, neighbouring lanes' blocks adjacent), and with subgroups four lanes load a chunk of activations
// that subgroupBroadcast hands to all. On lavapipe (GALLIVM_DEBUG=asm) every load inside a loop is an
// exec-masked per-lane loop with a bounds check, uniform addresses included: the activation loads were most of
// the kernel's instructions, and 256 rows at 256 addresses most of its cache misses (w4f16 4096 x 4096: 8.5 ms,
// 6.6 with the quad layout, 4.0 with both).
import type { QuantGemvUse } from '../../passes/index.js';
import { codesPerWord } from '../../ir/dtype.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, and, binary, builtin, construct, convert, div, index, lit, lt, member, mod, mul, mulConst, shl, shr, sub, vecType, xor } from '../wgsl/dsl.js';
import { type TensorSpec, XYZW, fromCompute, mulConstF32, subgroupShareLane, subgroupShared, toCompute, vec4FloatInput } from './lib/index.js';
import { type Epilogue, declareEpilogue } from './matmul-epilogue.js';

/**
 * m, k, bits, signed (codes read as two's complement or unsigned), group (inputs per scale along K, a multiple of
 * the step), scaleOrder (scale (j, g) at j * G + g of a [M, G] table, or g * M + j of [G, M]) and words (u32
 * words per row per step, 4 or 1) are the use passes/bits/quant-in-place.ts found.
 */
export interface QuantGemvSpec extends KernelSpecBase, Pick<QuantGemvUse, 'm' | 'k' | 'bits' | 'signed' | 'group' | 'scaleOrder' | 'words' | 'arranged'> {
  readonly kernel: 'quant-gemv';
  /** Activation rows. */
  readonly rows: number;
  readonly x: TensorSpec;
  /** The codes as u32 words [M * K / L] (arranged: [ceil(M / 4) * 4 * K / L], quad blocks). */
  readonly w: TensorSpec;
  readonly scales: TensorSpec;
  readonly zeros?: TensorSpec;
  readonly out: TensorSpec;
  readonly alpha: number;
  readonly c?: TensorSpec & { readonly beta: number };
  readonly epilogue?: Epilogue;
  /** Output rows per lane, activation rows per workgroup. */
  readonly perLane: number;
  readonly tokens: number;
  /**
   * The lane's rows as vector components (perLane a multiple of 4, f32 activations): one u32 word of codes per row
   * per step, gathered four rows to a vec4, each code paired with one activation scalar. Far fewer live registers
   * than the K-as-components form, which lavapipe spills (see compiler/lower/quant-lowering.ts).
   */
  readonly byRows: boolean;
}

const u = lit.u32;
const LANES = 64;
/** Activation values a subgroup shares per loop step: 8 vec4s, loaded by 4 lanes. */
const SG_CHUNK = 32;


export function quantGemvProblems(s: Omit<QuantGemvSpec, 'kernel' | 'target'>): string[] {
  const p: string[] = [];
  const step = s.words * codesPerWord(s.bits);
  if (!Number.isInteger(s.bits) || s.bits < 1 || s.bits > 8) p.push(`${s.bits}-bit codes (1 to 8)`);
  if (s.k % step !== 0) p.push(`K = ${s.k} is not a multiple of the step (${step} codes)`);
  if (s.group % step !== 0 && s.group < s.k) p.push(`group ${s.group} is not a multiple of the step (${step} codes)`);
  if (s.w.dtype !== 'u32' || s.w.shape.reduce((a, b) => a * b, 1) !== ((s.arranged ? Math.ceil(s.m / 4) * 4 : s.m) * s.k) / codesPerWord(s.bits)) p.push(`codes bound as ${s.w.dtype}[${s.w.shape.join(',')}]`);
  if (s.tokens < 1 || s.tokens > 8) p.push(`${s.tokens} activation rows per workgroup (1..8)`);
  if (s.perLane < 1 || s.perLane > 8) p.push(`${s.perLane} outputs per lane (1..8)`);
  if (s.out.dtype !== 'f32') p.push(`result dtype ${s.out.dtype}`);
  if (s.byRows && (s.perLane % 4 !== 0 || s.x.dtype !== 'f32' || codesPerWord(s.bits) % 4 !== 0)) p.push(`rows as components need a multiple of 4 rows per lane, f32 activations and a multiple of 4 codes per word`);
  if (s.arranged && !s.byRows) p.push('codes in the quad layout are read with rows as components only');
  if (step % 4 !== 0) p.push(`a step of ${step} codes is not whole vec4s of activations`);
  return p;
}

export const quantGemv: KernelGen<QuantGemvSpec> = (spec) => {
  const bad = quantGemvProblems(spec);
  if (bad.length) throw new Error(`quant GEMV: invalid spec (${bad.join('; ')})`);
  const { rows, m, k: K, bits, perLane: R, tokens: T } = spec;
  const L = codesPerWord(bits);
  const step = spec.words * L;
  const group = Math.min(spec.group, K);
  const groups = Math.ceil(K / group);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: LANES });
  const xVec = spec.x.dtype === 'f32';
  const xArr = xVec ? k.vec4Input('x', spec.x) : undefined;
  const xAcc = xVec ? undefined : k.input('x', spec.x);
  const byRows = spec.byRows;
  const arranged = spec.arranged;
  const wArr = (spec.words === 4 && !byRows) || arranged ? k.vec4Input('w', spec.w) : k.input('w', spec.w);
  // Scales [groups, M] (a MatMul's) of 4 rows that start at a multiple of 4 are one vec4: one load per group
  // instead of four (rows as components, M a multiple of 4).
  const scaleQuads = byRows && spec.scaleOrder === 'col' && m % 4 === 0 && (spec.scales.dtype === 'f32' || spec.scales.dtype === 'f16');
  const S4 = scaleQuads ? vec4FloatInput(k, 'scales', spec.scales) : undefined;
  const S = scaleQuads ? undefined : k.input('scales', spec.scales);
  const Z = spec.zeros && k.input('zeros', spec.zeros);
  const C = spec.c && k.input('c', spec.c);
  const epilogue = declareEpilogue(k, spec.epilogue, spec.out);
  const out = k.output('out', spec.out);

  const perGroup = LANES * R;
  const colBlocks = Math.ceil(m / perGroup);
  const blocks = Math.ceil(rows / T);
  const flat = k.workgroupIndex(colBlocks * blocks);
  const cb = blocks === 1 ? flat : k.let('cb', div(flat, u(blocks)));
  const blk = blocks === 1 ? undefined : k.let('blk', mod(flat, u(blocks)));
  const lane = k.builtinInput('local_invocation_index');
  // The lane's first output row; rows past M (a ragged last block) read row M - 1 and store nothing.
  const j0 = k.let('j0', add(mulConst(cb, perGroup), mulConst(lane, R)));
  const rowOf = (r: number): Expr => k.let('jr', builtin('min', r ? add(j0, u(r)) : j0, u(m - 1)));
  const jr = Array.from({ length: R }, (_, r) => rowOf(r));
  const wordsPerRow = K / L;
  // The quad layout's blocks per K step, and the lane's blocks (rows past M read the last, padded, block).
  const quadsStored = Math.ceil(m / 4);
  const quadOf = arranged ? Array.from({ length: R / 4 }, (_, qd) => k.let('qb', builtin('min', add(div(j0, u(4)), u(qd)), u(quadsStored - 1)))) : [];
  const wBase = arranged ? [] : jr.map((j) => k.let('wb', mulConst(j, spec.words === 4 && !byRows ? wordsPerRow / 4 : wordsPerRow)));
  const xRowOf = (t: number): Expr => (blk ? builtin('min', add(mulConst(blk, T), u(t)), u(rows - 1)) : u(t));
  const xBase = Array.from({ length: T }, (_, t) => k.let('xb', mulConst(xRowOf(t), xVec ? K / 4 : K)));
  const f32x4 = vecType(4, 'f32');
  const zero4 = (): Expr => construct(f32x4, lit.f32(0));
  const y = Array.from({ length: T }, () => Array.from({ length: R }, () => k.var('y', T_F32, lit.f32(0))));

  // Rows as components: codes are used where they sit. In a by-row word (one row per word component) code i is
  // (word & mask_i) = q * 2^(bits*i) as an exact float, against the activation value times 2^-(bits*i) (exact too:
  // a power of two), so a code costs a mask, a convert and a multiply-add instead of two shifts besides; the top
  // code is shifted down instead (its mask would reach the sign bit). In a by-k word the 4 rows of a K step sit
  // side by side at positions pos..pos+3: one vector mask gives q_r * 2^(bits*(pos+r)), the step's activation
  // carries 2^-(bits*pos) and row r's accumulator 2^-(bits*r), applied once per group; the word's last K step is
  // read from the word shifted down by `bits` (row 3's mask would reach the sign bit). Signed codes are flipped to
  // q + 2^(bits-1) by one XOR per word, and 2^(bits-1) * sum x comes off per group like a zero point.
  const inPlace = byRows;
  const offset = inPlace && spec.signed ? 2 ** (bits - 1) : 0;
  // One group along K: `body` accumulates the group's products (and sum x, with zero points) over its steps; then
  // y += scale * (dot - zero * sum x) per row and activation row, `dot(t, r)` reading the accumulators.
  const eachGroup = (body: (start: Expr, end: Expr, sx: readonly Expr[]) => (t: number, r: number) => Expr): void =>
    k.for('g', u(0), u(groups), (g) => {
      const sx = Z || offset ? Array.from({ length: T }, () => k.var('sx', f32x4, zero4())) : [];
      const start = k.let('k0', mulConst(g, group));
      const end = K % group === 0 ? add(start, u(group)) : builtin('min', add(start, u(group)), u(K));
      const dot = body(start, end, sx);
      // A ragged last block's lanes past M read the last quad (and store nothing).
      const quadScales = S4 ? Array.from({ length: R / 4 }, (_, qd) => k.let('s4', S4(add(mulConst(g, m / 4), builtin('min', add(div(j0, u(4)), u(qd)), u(m / 4 - 1)))))) : [];
      for (let r = 0; r < R; r++) {
        const sIdx = spec.scaleOrder === 'row' ? add(mulConst(jr[r]!, groups), g) : add(mulConst(g, m), jr[r]!);
        const scale = S ? k.let('s', toCompute(S.load(sIdx), S.value)) : member(quadScales[r >> 2]!, XYZW[r & 3]!);
        const zero = Z ? k.let('z', convert('f32', toCompute(Z.load(sIdx), Z.value))) : undefined;
        // In place codes are unsigned: a signed code q was read as q + offset (see `inPlace`).
        const shift = zero && offset ? add(zero, lit.f32(offset)) : (zero ?? (offset ? lit.f32(offset) : undefined));
        for (let t = 0; t < T; t++) k.compound('+=', y[t]![r]!, mul(scale, shift ? sub(dot(t, r), mul(shift, hsum(sx[t]!))) : dot(t, r)));
      }
    });
  const words = wArr as ReturnType<KernelBuilder['input']>;
  // Activations shared through the subgroup in chunks of 32 values (rows as components, f32 activations), where the
  // target has subgroups and every group is whole chunks.
  const sgChunk = byRows && spec.target.subgroups && K % SG_CHUNK === 0 && (group >= K || group % SG_CHUNK === 0) && SG_CHUNK % L === 0 ? SG_CHUNK : 0;

  if (byRows)
    // Lanes' rows as vector components: word i of rows r..r+3 in one vec4<u32> (four scalar loads), code i of each
    // paired with the activation value x[p + i] (one scalar for all four rows): few live registers.
    eachGroup((start, end, sx) => {
      const quads = R / 4;
      const acc = Array.from({ length: T }, () => Array.from({ length: quads }, () => k.var('acc', f32x4, zero4())));
      // The words of one step (L codes of each row) against the step's L activation values, `xAt(t, v)` giving
      // activation vec4 v of the step.
      const step = (p: Expr, xAt: (t: number, v: number) => Expr): void => {
        // Quad layout: the lane's block of each 4 rows is one vec4 at step * M4/4 + block, next to its neighbours'.
        const wv = Array.from({ length: quads }, (_, qd) =>
          k.let('wv', arranged ? index(wArr as Expr, add(mulConst(div(p, u(L)), quadsStored), quadOf[qd]!)) : construct(vecType(4, 'u32'), ...[0, 1, 2, 3].map((c) => words.loadWord(add(wBase[qd * 4 + c]!, div(p, u(L))))))),
        );
        const wu = offset ? wv.map((w) => k.let('wu', xor(w, construct(vecType(4, 'u32'), u(flipPattern(bits)))))) : wv;
        // by-k: the words shifted down by `bits`, for each word's last K step.
        const wt = arranged === 'by-k' ? wu.map((w) => k.let('wt', shr(w, construct(vecType(4, 'u32'), u(bits))))) : [];
        for (let v = 0; v < L / 4; v++)
          for (let t = 0; t < T; t++) {
            const raw = xAt(t, v);
            const scaleOf = (i: number): number => (arranged === 'by-k' ? 2 ** -byKOffset(i, bits) : i === L - 1 ? 1 : 2 ** -(bits * i));
            const xv = inPlace ? k.let('xs', mul(raw, construct(f32x4, ...[0, 1, 2, 3].map((e) => lit.f32(scaleOf(4 * v + e)))))) : raw;
            for (let e = 0; e < 4; e++)
              for (let qd = 0; qd < quads; qd++) {
                const i = 4 * v + e;
                const code = arranged === 'by-k' ? byKCode(wu[qd]!, wt[qd]!, i, bits) : inPlaceCode(wu[qd]!, i, bits);
                k.compound('+=', acc[t]![qd]!, mul(code, member(xv, XYZW[e]!)));
              }
          }
      };
      if (sgChunk) {
        // Every lane needs the chunk's 32 activation values (8 vec4s): four lanes load them, all get them
        // (lib/subgroup-share.ts).
        const lane = subgroupShareLane(k, SG_CHUNK / 4);
        k.for('c', start, end, (c) => {
          const xs = Array.from({ length: T }, (_, t) => {
            const all = subgroupShared(k, lane, SG_CHUNK / 4, (i) => index(xArr!, add(add(xBase[t]!, div(c, u(4))), i)));
            if (Z || offset) for (const v of all) k.compound('+=', sx[t]!, v);
            return all;
          });
          for (let st = 0; st < sgChunk / L; st++) step(st ? add(c, u(st * L)) : c, (t, v) => xs[t]![(st * L) / 4 + v]!);
        }, sgChunk);
      } else
        k.for('p', start, end, (p) => {
          step(p, (t, v) => {
            const xv = k.let('xv', index(xArr!, add(add(xBase[t]!, div(p, u(4))), u(v))));
            if (Z || offset) k.compound('+=', sx[t]!, xv);
            return xv;
          });
        }, L);
      // by-k: row r's codes carried 2^(bits*r).
      return (t, r) => (arranged === 'by-k' && r & 3 ? mulConstF32(2 ** -(bits * (r & 3)), member(acc[t]![r >> 2]!, XYZW[r & 3]!)) : member(acc[t]![r >> 2]!, XYZW[r & 3]!));
    });
  else
    eachGroup((start, end, sx) => {
      const acc = Array.from({ length: T }, () => Array.from({ length: R }, () => k.var('acc', f32x4, zero4())));
      k.for('p', start, end, (p) => {
        // The activation values of this step, as step / 4 vec4s per row (f32) or scalars widened.
        const xs = Array.from({ length: T }, (_, t) =>
          Array.from({ length: step / 4 }, (_, v) =>
            k.let('xv', xVec ? index(xArr!, add(add(xBase[t]!, div(p, u(4))), u(v))) : construct(f32x4, ...[0, 1, 2, 3].map((e) => xAt(xAcc!, add(xBase[t]!, add(p, u(4 * v + e))))))),
          ),
        );
        const xAtStep = (t: number, i: number): Expr => member(xs[t]![i >> 2]!, XYZW[i & 3]!);
        if (Z) for (let t = 0; t < T; t++) for (const v of xs[t]!) k.compound('+=', sx[t]!, v);
        for (let r = 0; r < R; r++) {
          const wi = add(wBase[r]!, spec.words === 4 ? div(p, u(4 * L)) : div(p, u(L)));
          const word = k.let('w', spec.words === 4 ? index(wArr as Expr, wi) : words.loadWord(wi));
          const lanesOf = spec.words === 4 ? 4 : 1;
          for (let i = 0; i < L; i++) {
            const code = decode(word, i, bits, spec.signed, lanesOf);
            for (let t = 0; t < T; t++) {
              // Component c holds code k0 + c * L + i; with one word per step only component x is used.
              const xv = lanesOf === 4 ? construct(f32x4, ...[0, 1, 2, 3].map((c) => xAtStep(t, c * L + i))) : construct(f32x4, xAtStep(t, i), lit.f32(0), lit.f32(0), lit.f32(0));
              k.compound('+=', acc[t]![r]!, mul(code, xv));
            }
          }
        }
      }, step);
      return (t, r) => hsum(acc[t]![r]!);
    });

  for (let t = 0; t < T; t++)
    for (let r = 0; r < R; r++) {
      const j = r ? add(j0, u(r)) : j0;
      const rowIdx = blk ? add(mulConst(blk, T), u(t)) : u(t);
      const store = (): void => {
        const o = k.let('o', add(mulConst(rowIdx, m), j));
        let v: Expr = y[t]![r]!;
        if (spec.alpha !== 1) v = mulConstF32(spec.alpha, v);
        if (C && spec.c) {
          const cv = toCompute(C.loadBroadcast(spec.out.shape, o), C.value);
          v = add(v, spec.c.beta === 1 ? cv : mulConstF32(spec.c.beta, cv));
        }
        out.store(o, fromCompute(epilogue(v, o), out.value));
      };
      const inCols = m % perGroup !== 0 || R > 1 ? lt(j, u(m)) : undefined;
      const inRows = rows % T !== 0 ? lt(rowIdx, u(rows)) : undefined;
      const guard = inRows && inCols ? binary('&&', inRows, inCols) : (inRows ?? inCols);
      if (guard) k.if(guard, store);
      else store();
    }
  return k.finish();
};

const T_F32 = { kind: 'scalar', scalar: 'f32' } as const;

/** The sum of a vec4's components. */
const hsum = (v: Expr): Expr => add(add(member(v, 'x'), member(v, 'y')), add(member(v, 'z'), member(v, 'w')));

/** Activation element i as f32 (an f16 or integer activation widened). */
const xAt = (x: ReturnType<KernelBuilder['input']>, i: Expr): Expr => convert('f32', toCompute(x.load(i), x.value));

/** Code i of each of a step's words (vec4<u32> or u32), as f32 (a vec4<f32>, the other lanes 0 for one word). */
function decode(word: Expr, i: number, bits: number, signed: boolean, lanes: 1 | 4): Expr {
  const vt = (s: 'u32' | 'i32') => (lanes === 4 ? vecType(4, s) : { kind: 'scalar' as const, scalar: s });
  const splat = (v: number): Expr => (lanes === 4 ? construct(vecType(4, 'u32'), u(v)) : u(v));
  let f: Expr;
  if (signed) {
    // Move the code to the top bits, then an arithmetic shift brings it down sign-extended.
    const up = 32 - bits * (i + 1);
    const top = up ? shl(word, splat(up)) : word;
    f = construct(lanes === 4 ? vecType(4, 'f32') : T_F32, shr({ kind: 'bitcast', type: vt('i32'), arg: top }, splat(32 - bits)));
  } else {
    const down = bits * i;
    const shifted = down ? shr(word, splat(down)) : word;
    // Converted from i32 (the code is below 2^31 after the mask): x86 has no unsigned convert, lavapipe emulates it.
    // The top code of a full word needs no mask: the shift leaves only its bits.
    const masked = bits * (i + 1) === 32 ? shifted : and(shifted, splat(2 ** bits - 1));
    f = construct(lanes === 4 ? vecType(4, 'f32') : T_F32, { kind: 'bitcast', type: vt('i32'), arg: masked });
  }
  return lanes === 4 ? f : construct(vecType(4, 'f32'), f, lit.f32(0), lit.f32(0), lit.f32(0));
}

/** The XOR that flips the top bit of every code of a word: q -> q + 2^(bits-1) for two's-complement codes. */
const flipPattern = (bits: number): number => Array.from({ length: codesPerWord(bits) }, (_, i) => 2 ** (bits * i + bits - 1)).reduce((a, b) => a + b, 0);

/** Unsigned code i of each row's word (vec4<u32>) where it sits, q * 2^(bits*i), as vec4<f32>; the top code shifted down. */
function inPlaceCode(word: Expr, i: number, bits: number): Expr {
  const u4 = vecType(4, 'u32');
  const top = bits * (i + 1) === 32;
  const bitsOf = top ? shr(word, construct(u4, u(bits * i))) : and(word, construct(u4, u((2 ** bits - 1) * 2 ** (bits * i))));
  return construct(vecType(4, 'f32'), { kind: 'bitcast', type: vecType(4, 'i32'), arg: bitsOf });
}

/**
 * by-k: where K step i of a step sits: word i / (L/4) at positions pos..pos+3 (rows 0..3), pos = (i % (L/4)) * 4;
 * its codes are masked at bit offset bits * pos less `bits` for a word's last step (read from the shifted word).
 */
function byKOffset(i: number, bits: number): number {
  const L = 32 / bits;
  const pos = (i % (L / 4)) * 4;
  return bits * pos - (pos + 4 === L ? bits : 0);
}

/** K step i of a by-k quad block's words as q_r * 2^(bits*r) for rows r = 0..3, a vec4<f32> (see `inPlace`). */
function byKCode(words: Expr, shifted: Expr, i: number, bits: number): Expr {
  const L = 32 / bits;
  const u4 = vecType(4, 'u32');
  const last = ((i % (L / 4)) + 1) * 4 === L;
  const word = member(last ? shifted : words, XYZW[Math.floor(i / (L / 4))]!);
  const at = byKOffset(i, bits);
  const masked = and(construct(u4, word), construct(u4, ...[0, 1, 2, 3].map((r) => u((2 ** bits - 1) * 2 ** (at + bits * r)))));
  return construct(vecType(4, 'f32'), { kind: 'bitcast', type: vecType(4, 'i32'), arg: masked });
}

/** FLOPs of the product (2 per multiply-add). */
export const quantGemvFlops = (s: QuantGemvSpec): number => 2 * s.rows * s.m * s.k;
