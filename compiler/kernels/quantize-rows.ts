// QuantizeRows (ir/ops/quantize-rows.ts) in two kernels, each exact in f32 as the op is:
//   row-scales  one invocation per row: absmax over the row, then e, the least integer with absmax <= Q * 2^e,
//               from frexp's exponent settled by comparisons of exact ldexp values; writes 2^e.
//   row-codes   one invocation per stored word of the codes (sub-byte codes share words across rows): each code
//               from x * 2^-e (ldexp: an exponent shift) rounded half to even (WGSL's round), clamped; bipolar
//               codes through the nearest odd integer.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, builtin, convert, div, ge, land, lit, lt, member, mul, mulConst, neg, select, sub } from '../wgsl/dsl.js';
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
    const e = k.var('e', T.i32, lit.i32(0));
    // Finite and positive (NaN fails both comparisons). With m = fr * 2^E (fr in [0.5, 1)) and Q of L bits,
    // Q * 2^(E-L) lies in [2^(E-1), 2^E) as m does, so e is E - L, or one more when that falls short of m.
    k.if(land(lt(f(0), m), ge(f(3.4028234663852886e38), m)), () => {
      const e0 = k.let('e0', sub(member(builtin('frexp', m), 'exp'), lit.i32(Math.floor(Math.log2(spec.q)) + 1)));
      k.assign(e, add(e0, select(lt(builtin('ldexp', f(spec.q), e0), m), lit.i32(1), lit.i32(0))));
    });
    out.store(r, builtin('ldexp', f(1), e));
  });
  return k.finish();
};

export interface RowCodesSpec extends KernelSpecBase {
  readonly kernel: 'row-codes';
  readonly x: TensorSpec;
  readonly scales: TensorSpec;
  /** i<bits> (signed) or u<bits> (bipolar). */
  readonly codes: TensorSpec;
  readonly k: number;
  readonly q: number;
  readonly bipolar: boolean;
}

export const rowCodes: KernelGen<RowCodesSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: 64 });
  const X = k.input('x', spec.x);
  const S = k.input('scales', spec.scales);
  const out = k.output('codes', spec.codes);
  const q = f(spec.q);
  storeEachElement(k, out, (i) => {
    const s = S.load(div(i, u(spec.k)));
    // s = 2^e exactly: frexp(s) = 0.5 * 2^(e+1).
    const t = k.let('t', builtin('ldexp', toCompute(X.load(i), X.value), neg(sub(member(builtin('frexp', s), 'exp'), lit.i32(1)))));
    if (!spec.bipolar) return convert('i32', builtin('clamp', builtin('round', t), neg(q), q));
    const v = k.let('v', builtin('clamp', add(mul(f(2), builtin('round', div(sub(t, f(1)), f(2)))), f(1)), neg(q), q));
    return convert('u32', div(add(v, q), f(2)));
  });
  return k.finish();
};
