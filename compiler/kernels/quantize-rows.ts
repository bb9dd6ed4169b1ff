// QuantizeRows (ir/ops/quantize-rows.ts), exact in f32 as the op is. Where each row's codes fill whole u32 words,
// one kernel (row-quantize): a workgroup per row takes the absmax in a tree over its lanes, derives the scale, and
// writes the row's code words. Otherwise two kernels:
//   row-scales  one invocation per row: absmax over the row, then e, the least integer with absmax <= Q * 2^e,
//               from frexp's exponent settled by comparisons of exact ldexp values; writes 2^e.
//   row-codes   one invocation per stored word of the codes (sub-byte codes share words across rows): each code
//               from x * 2^-e (ldexp: an exponent shift) rounded half to even (WGSL's round), clamped; bipolar
//               codes through the nearest odd integer.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { codesPerWord } from '../../ir/dtype.js';
import { KernelBuilder } from '../wgsl/build.js';
import type { Expr } from '../wgsl/ast.js';
import { T, add, builtin, convert, div, eq, ge, index, land, lit, lt, member, mul, mulConst, neg, select, sub } from '../wgsl/dsl.js';
import { type TensorSpec, storeEachElement, toCompute } from './lib/index.js';

const u = lit.u32;
const f = lit.f32;

export interface RowScalesSpec extends KernelSpecBase {
  readonly kernel: 'row-scales';
  readonly x: TensorSpec;
  /** f32 [rows, 1]. */
  readonly scales: TensorSpec;
  readonly k: number;
  /** The largest |value| of a code (rowCodeMax). */
  readonly q: number;
}

export const rowScales: KernelGen<RowScalesSpec> = (spec) => {
  const rows = spec.scales.shape.reduce((a, b) => a * b, 1);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const X = k.input('x', spec.x);
  const out = k.output('scales', spec.scales);
  const r = k.globalIndex(rows);
  k.if(lt(r, u(rows)), () => {
    const m = k.var('m', T.f32, f(0));
    k.for('i', u(0), u(spec.k), (i) => k.assign(m, builtin('max', m, builtin('abs', toCompute(X.load(add(mulConst(r, spec.k), i)), X.value)))));
    out.store(r, builtin('ldexp', f(1), scaleExponent(k, m, spec.q)));
  });
  return k.finish();
};

/** e (i32) with 2^e the scale of a row whose absmax is `m`: the least e with m <= q * 2^e; 0 unless m is finite and positive. */
function scaleExponent(k: KernelBuilder, m: Expr, q: number): Expr {
  const e = k.var('e', T.i32, lit.i32(0));
  // Finite and positive (NaN fails both comparisons). With m = fr * 2^E (fr in [0.5, 1)) and Q of L bits,
  // Q * 2^(E-L) lies in [2^(E-1), 2^E) as m does, so e is E - L, or one more when that falls short of m.
  k.if(land(lt(f(0), m), ge(f(3.4028234663852886e38), m)), () => {
    const e0 = k.let('e0', sub(member(builtin('frexp', m), 'exp'), lit.i32(Math.floor(Math.log2(q)) + 1)));
    k.assign(e, add(e0, select(lt(builtin('ldexp', f(q), e0), m), lit.i32(1), lit.i32(0))));
  });
  return e;
}

/** The code of x at scale 2^e, given -e: round half to even and clamp; bipolar through the nearest odd integer. */
function codeOf(k: KernelBuilder, x: Expr, negE: Expr, q: number, bipolar: boolean): Expr {
  const t = k.let('t', builtin('ldexp', x, negE));
  if (!bipolar) return convert('i32', builtin('clamp', builtin('round', t), f(-q), f(q)));
  const v = k.let('v', builtin('clamp', add(mul(f(2), builtin('round', div(sub(t, f(1)), f(2)))), f(1)), f(-q), f(q)));
  return convert('u32', div(add(v, f(q)), f(2)));
}

/** What both code kernels take. */
interface RowCodesFields {
  readonly x: TensorSpec;
  readonly scales: TensorSpec;
  /** i<bits> (signed) or u<bits> (bipolar). */
  readonly codes: TensorSpec;
  readonly k: number;
  readonly q: number;
  readonly bipolar: boolean;
}

export interface RowCodesSpec extends KernelSpecBase, RowCodesFields {
  readonly kernel: 'row-codes';
}

export const rowCodes: KernelGen<RowCodesSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const X = k.input('x', spec.x);
  const S = k.input('scales', spec.scales);
  const out = k.output('codes', spec.codes);
  storeEachElement(k, out, (i) => {
    const s = S.load(div(i, u(spec.k)));
    // s = 2^e exactly: frexp(s) = 0.5 * 2^(e+1).
    return codeOf(k, toCompute(X.load(i), X.value), neg(sub(member(builtin('frexp', s), 'exp'), lit.i32(1))), spec.q, spec.bipolar);
  });
  return k.finish();
};

export interface RowQuantizeSpec extends KernelSpecBase, RowCodesFields {
  readonly kernel: 'row-quantize';
}

const LANES = 64;

/** Whether each row's codes fill whole u32 words (row-quantize's condition: no word shared by two workgroups). */
export const rowWordsWhole = (k: number, bits: number): boolean => k % codesPerWord(bits) === 0;

export const rowQuantize: KernelGen<RowQuantizeSpec> = (spec) => {
  const rows = spec.scales.shape.reduce((a, b) => a * b, 1);
  const bits = Number(spec.codes.dtype.slice(1));
  if (!rowWordsWhole(spec.k, bits)) throw new Error(`row-quantize: rows of ${spec.k} ${bits}-bit codes do not fill whole words`);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: LANES });
  const X = k.input('x', spec.x);
  const scales = k.output('scales', spec.scales);
  const out = k.output('codes', spec.codes);
  const row = k.workgroupIndex(rows);
  const lane = k.builtinInput('local_invocation_index');
  const base = k.let('base', mulConst(row, spec.k));
  const m = k.var('m', T.f32, f(0));
  k.for('i', lane, u(spec.k), (i) => k.assign(m, builtin('max', m, builtin('abs', toCompute(X.load(add(base, i)), X.value)))), LANES);
  const sh = k.workgroupArray('sh', T.f32, LANES);
  k.assign(index(sh, lane), m);
  k.workgroupBarrier();
  for (let d = LANES / 2; d >= 1; d /= 2) {
    k.if(lt(lane, u(d)), () => k.assign(index(sh, lane), builtin('max', index(sh, lane), index(sh, add(lane, u(d))))));
    k.workgroupBarrier();
  }
  const e = scaleExponent(k, index(sh, u(0)), spec.q);
  k.if(eq(lane, u(0)), () => scales.store(row, builtin('ldexp', f(1), e)));
  const negE = k.let('ne', neg(e));
  const words = spec.k / codesPerWord(bits);
  k.for('wi', lane, u(words), (wi) => {
    const w = add(mulConst(row, words), wi);
    if (out.packed) out.storeLanes(w, (i) => codeOf(k, toCompute(X.load(i), X.value), negE, spec.q, spec.bipolar));
    else out.store(w, codeOf(k, toCompute(X.load(w), X.value), negE, spec.q, spec.bipolar));
  }, LANES);
  return k.finish();
};
