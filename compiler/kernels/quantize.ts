// Linear quantization kernels, matching ir/ops/quantize.ts:
//   * 'quantize': QuantizeLinear y = saturate(round_half_even(f32(x / scale)) + zero_point) or DequantizeLinear
//     y = (x - zero_point) * scale, with the scale and zero point per tensor, per index along an axis, or per
//     block along it (the parameter index is baked as div/mod arithmetic on the flat index);
//   * 'quantize-range': DynamicQuantizeLinear's min/max reduction (one workgroup per chunk, a tree in workgroup
//     memory), either writing partial (min, max) pairs to scratch or, in its final stage, the u8 scale and zero
//     point, computed step for step in f32 as the reference does. The u8 output is then a QuantizeLinear.
// The quotient x / scale must be the correctly rounded f32 quotient, or a value next to a .5 tie can round the
// other way; WGSL only promises 2.5 ulp for division, so the quotient is computed exactly in integer arithmetic
// (qdiv below) wherever it is a normal number.
import { AttrReader, type DType, type Node, type TensorType, intRange, lookupOp } from '../../ir/index.js';
import { numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import {
  T, add, and, bitcast, builtin, call, convert, div, eq, ge, ident, index, land, lit, lor, lt, mod, mul, mulConst, ne, or, select, shl, shr, sub, sumU32, xor,
} from '../wgsl/dsl.js';
import { type TensorSpec, ceilDiv, fromCompute, isnan, pick, staticTensor, storeEachElement, toF32 } from './lib/index.js';

/** Where element i's scale and zero point are: ((i / (len·inner)) · outer + ((i / inner) % len) / block · along + (i % inner) · inner. */
export interface ParamMap {
  readonly len: number;
  readonly inner: number;
  readonly block: number;
  readonly mults: readonly [outer: number, along: number, inner: number];
}

export interface QuantizeSpec extends KernelSpecBase {
  readonly kernel: 'quantize';
  readonly direction: 'quantize' | 'dequantize';
  readonly x: TensorSpec;
  readonly scale: TensorSpec;
  readonly zeroPoint?: TensorSpec;
  readonly output: TensorSpec;
  readonly param: ParamMap;
  readonly workgroupSize: number;
}

export interface RangeSpec extends KernelSpecBase {
  readonly kernel: 'quantize-range';
  /** The data, or (pairs) the partial [min, max] pairs of an earlier stage, as f32. */
  readonly input: TensorSpec;
  readonly pairs: boolean;
  readonly groups: number;
  /** Write scale and zero point (one group) rather than a (min, max) pair per group. */
  readonly final: boolean;
}

/** Threads per workgroup of the range kernel; each thread first reduces a strided share serially. */
export const RANGE_THREADS = 256;

const u = lit.u32;
const f = lit.f32;

/** The parameter map of a (De)QuantizeLinear node, as ir/ops/quantize.ts's paramLayout reads its attributes. */
function paramMap(x: readonly number[], scale: readonly number[], axisAttr: number, block: number): ParamMap {
  const none: ParamMap = { len: 1, inner: 1, block: 1, mults: [0, 0, 0] };
  if (block === 0 && (scale.length === 0 || numel(scale) === 1)) return none;
  const axis = axisAttr < 0 ? axisAttr + x.length : axisAttr;
  const len = x[axis]!;
  const inner = numel(x.slice(axis + 1));
  if (block === 0) return { len, inner, block: 1, mults: [0, 1, 0] };
  return { len, inner, block, mults: [ceilDiv(len, block) * inner, inner, 1] };
}

export function quantizeSpec(node: Node, typeOf: (value: string) => TensorType, target: Target, workgroupSize = 64): QuantizeSpec {
  const attrs = new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);
  const [x, scale, zp] = node.inputs.map((v) => (v === '' ? undefined : staticTensor(typeOf(v), `%${v}`, 'quantization kernels')));
  return {
    kernel: 'quantize',
    target: { shaderF16: target.shaderF16 },
    direction: node.op === 'DequantizeLinear' ? 'dequantize' : 'quantize',
    x: x!,
    scale: scale!,
    ...(zp ? { zeroPoint: zp } : {}),
    output: staticTensor(typeOf(node.outputs[0]!), `%${node.outputs[0]}`, 'quantization kernels'),
    param: paramMap(x!.shape, scale!.shape, attrs.int('axis'), attrs.int('block_size')),
    workgroupSize,
  };
}

/**
 * `fn qdiv(a: f32, b: f32) -> f32`: the correctly rounded quotient. Where it is a normal number it is computed
 * by restoring division of the 24-bit significands (25 quotient bits plus a sticky remainder, rounded to nearest
 * even); zero, subnormal, infinite and NaN results come from kiln_fdiv, whose rounding there cannot matter here.
 */
function qdiv(k: KernelBuilder): string {
  const [a, b] = [ident('qa'), ident('qb')];
  const body = k.collect(() => {
    const q = k.let('q', call('kiln_fdiv', a, b));
    const aq = builtin('abs', q);
    k.if(lor(lt(aq, f(2 ** -125)), lor(ge(aq, f(2 ** 126)), isnan(q))), () => k.return(q));
    // Significand in [2^23, 2^24) and unbiased exponent of |v| (subnormals normalised).
    const parts = (v: Expr, tag: string): { m: Expr; e: Expr } => {
      const bits = k.let(`b${tag}`, and(bitcast('u32', v), u(0x7fffffff)));
      const m = k.var(`m${tag}`, T.u32, and(bits, u(0x7fffff)));
      const e = k.var(`e${tag}`, T.i32, convert('i32', shr(bits, u(23))));
      k.if(
        eq(e, lit.i32(0)),
        () => {
          const s = k.let(`s${tag}`, sub(lit.i32(23), convert('i32', builtin('firstLeadingBit', m))));
          k.assign(m, shl(m, convert('u32', s)));
          k.assign(e, sub(lit.i32(1), s));
        },
        () => k.assign(m, or(m, u(0x800000))),
      );
      return { m, e };
    };
    const pa = parts(a, 'a');
    const pb = parts(b, 'b');
    const e = k.var('e', T.i32, sub(pa.e, pb.e));
    k.if(lt(pa.m, pb.m), () => {
      k.assign(pa.m, shl(pa.m, u(1)));
      k.assign(e, sub(e, lit.i32(1)));
    });
    const rem = k.var('rem', T.u32, pa.m);
    const qm = k.var('qm', T.u32, u(0));
    k.for('bit', u(0), u(25), () => {
      k.assign(qm, shl(qm, u(1)));
      k.if(ge(rem, pb.m), () => {
        k.assign(rem, sub(rem, pb.m));
        k.assign(qm, or(qm, u(1)));
      });
      k.assign(rem, shl(rem, u(1)));
    });
    const m = k.var('m', T.u32, shr(qm, u(1)));
    k.if(land(ne(and(qm, u(1)), u(0)), lor(ne(rem, u(0)), ne(and(m, u(1)), u(0)))), () => k.assign(m, add(m, u(1))));
    k.if(eq(m, u(0x1000000)), () => {
      k.assign(m, shr(m, u(1)));
      k.assign(e, add(e, lit.i32(1)));
    });
    const sign = and(bitcast('u32', q), u(0x80000000));
    k.return(bitcast('f32', or(or(sign, shl(convert('u32', add(e, lit.i32(127))), u(23))), and(m, u(0x7fffff)))));
  });
  return k.helper({ kind: 'fn', name: 'qdiv', params: [{ name: 'qa', type: T.f32 }, { name: 'qb', type: T.f32 }], returns: T.f32, body });
}

/** round(v) (half to even) saturated to dtype's range, NaN -> 0, as the dtype's value scalar. */
function saturate(v: Expr, dtype: DType, value: 'i32' | 'u32'): Expr {
  const [lo, hi] = intRange(dtype);
  const r = builtin('clamp', builtin('round', v), f(lo), f(hi));
  return select(isnan(v), lit.of(value, 0), convert(value, r));
}

export const quantize: KernelGen<QuantizeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const x = k.input('x', spec.x);
  const scale = k.input('scale', spec.scale);
  const zp = spec.zeroPoint && k.input('zero_point', spec.zeroPoint);
  const out = k.output('y', spec.output);
  const div_ = spec.direction === 'quantize' ? qdiv(k) : '';
  const { len, inner, block, mults } = spec.param;

  const valueAt = (flat: Expr): Expr => {
    const terms: Expr[] = [];
    const hasOuter = len * inner < numel(spec.x.shape);
    if (mults[0] && hasOuter) terms.push(mulConst(div(flat, u(len * inner)), mults[0]));
    if (mults[1]) {
      let along = inner === 1 ? flat : div(flat, u(inner));
      if (hasOuter) along = mod(along, u(len));
      terms.push(mulConst(block === 1 ? along : div(along, u(block)), mults[1]));
    }
    if (mults[2]) terms.push(mulConst(mod(flat, u(inner)), mults[2]));
    const p = k.let('p', sumU32(terms));
    const s = k.let('s', toF32(scale.load(p), scale.value));
    const xv = x.load(flat);
    if (spec.direction === 'dequantize') {
      // x - zero_point is exact in i32 for the <= 8-bit dtypes; for i32 data it is exact unless it overflows, when
      // the difference is taken in f32 instead.
      const xi = k.let('xi', x.value === 'i32' ? xv : convert('i32', xv));
      let d = convert('f32', xi);
      if (zp) {
        const z = k.let('zi', zp.value === 'i32' ? zp.load(p) : convert('i32', zp.load(p)));
        const diff = k.let('d', sub(xi, z));
        d = convert('f32', diff);
        if (spec.x.dtype === 'i32') {
          const wrapped = lt(and(xor(xi, z), xor(xi, diff)), lit.i32(0));
          d = select(wrapped, sub(convert('f32', xi), convert('f32', z)), d);
        }
      }
      return fromCompute(mul(d, s), out.value);
    }
    const q = k.let('q', builtin('round', call(div_, toF32(xv, x.value), s)));
    const shifted = zp ? add(q, convert('f32', zp.load(p))) : q;
    return saturate(shifted, spec.output.dtype, out.value as 'i32' | 'u32');
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};

export const quantizeRange: KernelGen<RangeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: RANGE_THREADS });
  const x = k.input('x', spec.input);
  const count = spec.pairs ? numel(spec.input.shape) / 2 : numel(spec.input.shape);
  const scaleOut = spec.final ? k.output('scale', { dtype: 'f32', shape: [] }) : undefined;
  const zpOut = spec.final ? k.output('zero_point', { dtype: 'u8', shape: [] }) : undefined;
  const partials = spec.final ? undefined : k.output('partials', { dtype: 'f32', shape: [2 * spec.groups] });
  const l = k.builtinInput('local_invocation_index');
  const g = k.workgroupIndex(spec.groups);
  const load = (i: Expr): Expr => toF32(x.load(i), x.value);
  // The range always includes 0 (the reference starts from min = max = 0).
  const mn = k.var('mn', T.f32, f(0));
  const mx = k.var('mx', T.f32, f(0));
  k.for(
    'i',
    add(mulConst(g, RANGE_THREADS), l),
    u(count),
    (i) => {
        const lo = spec.pairs ? k.let('lo', load(mulConst(i, 2))) : k.let('v', load(i));
      const hi = spec.pairs ? k.let('hi', load(add(mulConst(i, 2), u(1)))) : lo;
      k.assign(mn, pick('min', 'f32', mn, lo));
      k.assign(mx, pick('max', 'f32', mx, hi));
    },
    spec.groups * RANGE_THREADS,
  );
  const smin = k.workgroupArray('smin', T.f32, RANGE_THREADS);
  const smax = k.workgroupArray('smax', T.f32, RANGE_THREADS);
  k.assign(index(smin, l), mn);
  k.assign(index(smax, l), mx);
  k.workgroupBarrier();
  for (let stride = RANGE_THREADS / 2; stride >= 1; stride /= 2) {
    k.if(lt(l, u(stride)), () => {
      for (const [arr, fn] of [[smin, 'min'], [smax, 'max']] as const) {
        const [a, b] = [k.let('a', index(arr, l)), k.let('b', index(arr, add(l, u(stride))))];
        k.assign(index(arr, l), pick(fn, 'f32', a, b));
      }
    });
    k.workgroupBarrier();
  }
  k.if(eq(l, u(0)), () => {
    const lo = k.let('lo', index(smin, u(0)));
    const hi = k.let('hi', index(smax, u(0)));
    if (partials) {
      partials.store(mulConst(g, 2), lo);
      partials.store(add(mulConst(g, 2), u(1)), hi);
      return;
    }
    // scale = (max == min ? 1 : max - min) / 255; zero point = round(clamp(0 - min / scale, 0, 255)), in f32.
    const div_ = qdiv(k);
    const s = k.let('s', call(div_, select(eq(hi, lo), f(1), sub(hi, lo)), f(255)));
    const z = k.let('z', sub(f(0), call(div_, lo, s)));
    scaleOut!.store(u(0), s);
    zpOut!.storeWord(u(0), select(isnan(z), u(0), convert('u32', builtin('round', builtin('clamp', z, f(0), f(255))))));
  });
  return k.finish();
};

export const rangeGroups = (count: number): number => Math.min(RANGE_THREADS, Math.max(1, ceilDiv(count, 16 * RANGE_THREADS)));
