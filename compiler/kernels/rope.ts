// Rope(x[T,H,D], pos){theta, rotary_dim}: rotary position embedding, "rotate_half" pairing (element i with
// i + rot/2) of the first `rot` elements of each head; the rest are copied. Row t sits at position pos + t, with
// pos read from its uniform, so the kernel is the same at every decoding step.
//
// The angle (pos + t) * inv_freq[i] must be accurate at large positions: in plain f32 the product alone is off
// by up to pos * 2^-24 radians (1e-4 rad at pos 2000), and GPU sin/cos are only specified near [-pi, pi]. So
// each frequency is baked as a 64-bit fixed-point fraction of a turn, frac(inv_freq / 2pi) = (hi + lo * 2^-32)
// * 2^-32, and the position (an integer) times it is reduced modulo one turn exactly in u32 arithmetic
// (wrapping multiplies plus the high word of pos * lo). What reaches f32 is the angle in [-pi, pi), accurate to
// about 2^-24 of pi whatever the position.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { T, add, and, arrayType, bitcast, builtin, construct, convert, div, ge, ident, index, lit, lt, mod, mul, scalarType, select, shr, sub } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, stepPos, storeEachElement, toCompute } from './lib/index.js';

export interface RopeSpec extends KernelSpecBase {
  readonly kernel: 'rope';
  /** [T, H, D]; the output has the same dtype and shape. */
  readonly input: TensorSpec;
  readonly theta: number;
  /** Rotated elements per head (even, at most D). */
  readonly rotaryDim: number;
}

const u = lit.u32;
const TWO_32 = 2 ** 32;

/**
 * Pair i's frequency as a fraction of a turn per position, frac(theta^(-2i/rot) / 2pi), split into two u32
 * words of fixed point (value = (hi + lo / 2^32) / 2^32). The integer part of the turns is dropped: an integer
 * position times it is whole turns.
 */
export function ropeTurnFractions(theta: number, rot: number): { hi: number[]; lo: number[] } {
  const hi: number[] = [];
  const lo: number[] = [];
  for (let i = 0; i < rot / 2; i++) {
    const turns = 1 / Math.pow(theta, (2 * i) / rot) / (2 * Math.PI);
    const scaled = (turns - Math.floor(turns)) * TWO_32; // exact: a power-of-two scaling of an f64
    const h = Math.floor(scaled);
    hi.push(h);
    lo.push(Math.min(TWO_32 - 1, Math.floor((scaled - h) * TWO_32)));
  }
  return { hi, lo };
}

/** The high 32 bits of the 64-bit product a * b (u32), from 16-bit halves (WGSL has no widening multiply). */
function mulHigh(k: KernelBuilder, a: Expr, b: Expr): Expr {
  const a0 = k.let('a0', and(a, u(0xffff)));
  const a1 = k.let('a1', shr(a, u(16)));
  const b0 = k.let('b0', and(b, u(0xffff)));
  const b1 = k.let('b1', shr(b, u(16)));
  // Each partial sum stays below 2^32: (2^16-1)^2 + (2^16-1) < 2^32.
  const m1 = k.let('m1', add(mul(a1, b0), shr(mul(a0, b0), u(16))));
  const m2 = k.let('m2', add(mul(a0, b1), and(m1, u(0xffff))));
  return add(add(mul(a1, b1), shr(m1, u(16))), shr(m2, u(16)));
}

export const rope: KernelGen<RopeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target });
  const [, heads, dim] = spec.input.shape as [number, number, number];
  const rot = spec.rotaryDim;
  const half = rot / 2;
  const x = k.input('x', spec.input);
  const pos = stepPos(k);
  const y = k.output('y', spec.input);
  const fractions = ropeTurnFractions(spec.theta, rot);
  const table = (name: string, values: readonly number[]): Expr =>
    ident(k.helper({ kind: 'const', name, value: construct(arrayType(T.u32, values.length), ...values.map((v) => u(v))) }));
  const hiTable = half > 0 ? table('FREQ_HI', fractions.hi) : undefined;
  const loTable = half > 0 ? table('FREQ_LO', fractions.lo) : undefined;
  const load = (at: Expr): Expr => toCompute(x.load(at), x.value);

  const rotated = (e: Expr, t: Expr, i: Expr): Expr => {
    const second = k.let('second', ge(i, u(half))); // the second element of its pair
    const pair = k.let('pair', select(second, sub(i, u(half)), i));
    const first = k.let('first', sub(e, sub(i, pair))); // flat index of the pair's first element
    const n = k.let('n', add(pos, t));
    const turns = k.let('turns', add(mul(n, index(hiTable!, pair)), mulHigh(k, n, index(loTable!, pair))));
    // The turn fraction read as signed is the angle in [-pi, pi) in units of 2pi / 2^32.
    const angle = k.let('angle', mul(convert('f32', bitcast('i32', turns)), lit.f32((2 * Math.PI) / TWO_32)));
    const c = k.let('c', builtin('cos', angle));
    const s = k.let('s', builtin('sin', angle));
    const x0 = k.let('x0', load(first));
    const x1 = k.let('x1', load(add(first, u(half))));
    return select(second, add(mul(x1, c), mul(x0, s)), sub(mul(x0, c), mul(x1, s)));
  };

  storeEachElement(k, y, (e) => {
    const t = k.let('t', div(e, u(heads * dim)));
    const i = k.let('i', mod(e, u(dim)));
    if (rot === 0) return x.load(e); // an empty head (D = 0): nothing to rotate
    if (rot === dim) return fromCompute(rotated(e, t, i), y.value);
    // Partial rotary: elements i >= rot pass through unchanged (bit for bit).
    const v = k.var('v', scalarType(y.value), x.load(e));
    k.if(lt(i, u(rot)), () => k.assign(v, fromCompute(rotated(e, t, i), y.value)));
    return v;
  });
  return k.finish();
};
