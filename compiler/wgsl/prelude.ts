// Constant helper functions that kernels call by name (an AST `call` of `kiln_*`). They are fixed text, so they
// live here as strings; print.ts includes a prelude only when the module calls it (and its dependencies first).
// Each one is written against a precise contract, noted above it, that the reference interpreter also follows.
import { MATH_PRELUDES } from './prelude-math.js';

export interface Prelude {
  readonly name: string;
  readonly deps: readonly string[];
  /** Needs `enable f16;`. */
  readonly f16: boolean;
  readonly text: string;
}

const preludes: Prelude[] = [
  // Float from a bit pattern through a function call, so non-finite constants (inf, NaN) are runtime values:
  // WGSL rejects const-expressions that evaluate to a non-finite float.
  {
    name: 'kiln_f32_from_bits',
    deps: [],
    f16: false,
    text: `fn kiln_f32_from_bits(b: u32) -> f32 {
  return bitcast<f32>(b);
}`,
  },
  {
    name: 'kiln_f16_from_bits',
    deps: [],
    f16: true,
    text: `fn kiln_f16_from_bits(b: u32) -> f16 {
  return bitcast<vec2<f16>>(b & 0xffffu).x;
}`,
  },
  // NaN test on the bit pattern: immune to compilers that assume x == x.
  {
    name: 'kiln_isnan',
    deps: [],
    f16: false,
    text: `fn kiln_isnan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}`,
  },
  // max and min as the interpreter's Math.max/Math.min (IEEE 754-2019 maximum/minimum): NaN when either operand
  // is NaN, and -0 < +0, so max(-0, +0) = +0 and min(-0, +0) = -0. WGSL leaves both to the implementation
  // (lavapipe's max/min return their first operand for a ±0 pair). Equal operands have equal bits except ±0, so
  // and-ing (or or-ing) the bits picks +0 (or -0) and changes nothing else.
  {
    name: 'kiln_max',
    deps: ['kiln_isnan'],
    f16: false,
    text: `fn kiln_max(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) {
    return a;
  }
  if (kiln_isnan(b)) {
    return b;
  }
  if (a == b) {
    return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b));
  }
  return select(b, a, a > b);
}`,
  },
  {
    name: 'kiln_min',
    deps: ['kiln_isnan'],
    f16: false,
    text: `fn kiln_min(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) {
    return a;
  }
  if (kiln_isnan(b)) {
    return b;
  }
  if (a == b) {
    return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b));
  }
  return select(b, a, a < b);
}`,
  },
  // f32 -> f16 bit pattern, round to nearest even; |x| >= 65520 gives inf, NaN stays NaN. WGSL leaves f16(x) and
  // pack2x16float indeterminate out of range, so the conversion is done in integer arithmetic.
  {
    name: 'kiln_f16_bits',
    deps: [],
    f16: false,
    text: `fn kiln_f16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let s = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) {
    return s | 0x7e00u;
  }
  if (a >= 0x477ff000u) {
    return s | 0x7c00u;
  }
  if (a >= 0x38800000u) {
    let m = a - 0x38000000u;
    return s | ((m + 0x0fffu + ((m >> 13u) & 1u)) >> 13u);
  }
  return s | u32(round(bitcast<f32>(a) * 16777216.0));
}`,
  },
  // f32 -> bf16 bit pattern (the upper half of the f32), round to nearest even; NaN stays a quiet NaN.
  {
    name: 'kiln_bf16_bits',
    deps: [],
    f16: false,
    text: `fn kiln_bf16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) {
    return (b >> 16u) | 0x40u;
  }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;
}`,
  },
  {
    name: 'kiln_to_f16',
    deps: ['kiln_f16_bits', 'kiln_f16_from_bits'],
    f16: true,
    text: `fn kiln_to_f16(x: f32) -> f16 {
  return kiln_f16_from_bits(kiln_f16_bits(x));
}`,
  },
  // trunc(x) mod 2^32 for finite x, exactly (in two 16-bit halves, each step exact in f32); NaN and inf give 0.
  {
    name: 'kiln_wrap_u32',
    deps: [],
    f16: false,
    text: `fn kiln_wrap_u32(x: f32) -> u32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) >= 0x7f800000u) {
    return 0u;
  }
  let t = trunc(x);
  let hi = floor(t / 65536.0);
  let lo = t - hi * 65536.0;
  let hm = hi - floor(hi / 65536.0) * 65536.0;
  return (u32(hm) << 16u) | u32(lo);
}`,
  },
  // a + b and a - b with IEEE results for NaN and infinite operands. WGSL lets an implementation assume there are
  // no infinities or NaNs during shader execution, and lavapipe's compiler uses that: it folds x - x and
  // x + (-x) to 0 (also when x is computed twice, e.g. Sub(Relu(x), Relu(x)), once CSE merges them), which is
  // wrong only for NaN and infinite x. So NaN operands and infinities that cancel are selected explicitly.
  {
    name: 'kiln_add',
    deps: ['kiln_isnan', 'kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_add(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) {
    return a;
  }
  if (kiln_isnan(b)) {
    return b;
  }
  let ua = bitcast<u32>(a);
  if ((ua & 0x7fffffffu) == 0x7f800000u && (ua ^ bitcast<u32>(b)) == 0x80000000u) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  return a + b;
}`,
  },
  {
    name: 'kiln_sub',
    deps: ['kiln_isnan', 'kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_sub(a: f32, b: f32) -> f32 {
  if (kiln_isnan(a)) {
    return a;
  }
  if (kiln_isnan(b)) {
    return b;
  }
  let ua = bitcast<u32>(a);
  if ((ua & 0x7fffffffu) == 0x7f800000u && ua == bitcast<u32>(b)) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  return a - b;
}`,
  },
  // c * x for a constant c = ±0 (an attribute such as LeakyRelu's alpha or Gemm's beta), which drivers fold to 0
  // (see kiln_add): ±0 with the sign of x xor c's for finite x, NaN for NaN and infinite x.
  {
    name: 'kiln_mul_zero',
    deps: ['kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_mul_zero(x: f32, sign: u32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) >= 0x7f800000u) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  return bitcast<f32>((b & 0x80000000u) ^ sign);
}`,
  },
  // IEEE division: WGSL leaves x/0 indeterminate, so the zero divisor is handled explicitly (±inf, or NaN for
  // 0/0 and NaN/0).
  {
    name: 'kiln_fdiv',
    deps: ['kiln_isnan', 'kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_fdiv(a: f32, b: f32) -> f32 {
  if (b == 0.0) {
    if (a == 0.0 || kiln_isnan(a)) {
      return kiln_f32_from_bits(0x7fc00000u);
    }
    return bitcast<f32>(((bitcast<u32>(a) ^ bitcast<u32>(b)) & 0x80000000u) | 0x7f800000u);
  }
  return a / b;
}`,
  },
  // exp(x) for |x| < 2^-7 by its Taylor series to x^4 (the next term is below 2^-41 relative), so that results
  // near 1 are rounded once: lavapipe's exp and exp2 return 0.99999994 for every tiny negative argument
  // (exp(-1e-30) and pow(1.5, -1e-45) included), where the correctly rounded value is 1, and a Cast to an integer
  // downstream turns that last-place error into 0 instead of 1.
  {
    name: 'kiln_exp_small',
    deps: [],
    f16: false,
    text: `fn kiln_exp_small(x: f32) -> f32 {
  return 1.0 + x * (1.0 + x * (0.5 + x * (0.16666667 + x * 0.041666668)));
}`,
  },
  // exp with IEEE overflow and underflow: inf above ln(f32 max), and results below the smallest normal (x < -87.34)
  // as subnormals, computed as exp(x/2)^2 (x/2 is exact, the square rounds once into the subnormals). lavapipe's
  // exp returns 0 for every result below 2^-126, which WGSL allows (it may flush the outputs of exp), but the
  // interpreter keeps them, and downstream they matter: Pow(Sigmoid(-89), 1e-45) is 1, not 0.
  {
    name: 'kiln_exp',
    deps: ['kiln_f32_from_bits', 'kiln_exp_small'],
    f16: false,
    text: `fn kiln_exp(x: f32) -> f32 {
  if (x > 88.72284) {
    return kiln_f32_from_bits(0x7f800000u);
  }
  if (x < -87.33654) {
    let h = exp(x * 0.5);
    return h * h;
  }
  if (abs(x) < 0.0078125) {
    return kiln_exp_small(x);
  }
  return exp(x);
}`,
  },
  // log2 and log of any x: log of 0 is -inf, of a negative number or NaN NaN, of +inf +inf. Subnormal x is
  // scaled into the normals first (x * 2^24, then 24 subtracted): lavapipe's log reads the exponent field, so
  // log(2^-149) came out as -88.03 (log of the smallest normal) instead of -103.28.
  {
    name: 'kiln_log2',
    deps: ['kiln_isnan', 'kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_log2(x: f32) -> f32 {
  if (x == 0.0) {
    return -kiln_f32_from_bits(0x7f800000u);
  }
  if (x < 0.0 || kiln_isnan(x)) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  if (x < 1.17549435e-38) {
    return log2(x * 16777216.0) - 24.0;
  }
  return log2(x);
}`,
  },
  {
    name: 'kiln_log',
    deps: ['kiln_isnan', 'kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_log(x: f32) -> f32 {
  if (x == 0.0) {
    return -kiln_f32_from_bits(0x7f800000u);
  }
  if (x < 0.0 || kiln_isnan(x)) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  if (x < 1.17549435e-38) {
    return log(x * 16777216.0) - 16.6355323;
  }
  return log(x);
}`,
  },
  // pow with the special cases of C/JS pow that WGSL (exp2(y*log2(x)), undefined for x <= 0) lacks: y == 0 gives
  // 1, a negative base needs an integral exponent (odd ones keep the sign), zero and infinite bases, overflow.
  {
    name: 'kiln_pow',
    deps: ['kiln_isnan', 'kiln_f32_from_bits', 'kiln_fdiv', 'kiln_log2', 'kiln_exp_small'],
    f16: false,
    text: `fn kiln_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0) {
    return 1.0;
  }
  if (kiln_isnan(x) || kiln_isnan(y)) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  let integral = trunc(y) == y;
  let pinf = kiln_f32_from_bits(0x7f800000u);
  // A negative finite base to a non-integral power has no real value; -inf to any power is ±0 or ±inf.
  if (x < 0.0 && x != -pinf && !integral) {
    return kiln_f32_from_bits(0x7fc00000u);
  }
  let ax = abs(x);
  var r: f32;
  if (ax == 0.0) {
    r = select(0.0, pinf, y < 0.0);
  } else if (ax == pinf) {
    r = select(pinf, 0.0, y < 0.0);
  } else if (integral && abs(y) <= 64.0) {
    // Integral exponents by repeated squaring: a few correctly rounded products instead of exp2/log2 error
    // that grows with |y * log2(x)|.
    var n = u32(abs(y));
    var b: f32 = ax;
    var acc: f32 = 1.0;
    loop {
      if ((n & 1u) != 0u) {
        acc = acc * b;
      }
      n = n >> 1u;
      if (n == 0u) {
        break;
      }
      b = b * b;
    }
    r = select(acc, kiln_fdiv(1.0, acc), y < 0.0);
  } else {
    let t = y * kiln_log2(ax);
    if (abs(t) < 0.0078125) {
      r = kiln_exp_small(t * 0.6931472);
    } else {
      r = select(select(exp2(t), 0.0, t < -160.0), pinf, t >= 128.0);
    }
  }
  let odd = integral && abs(y) < 16777216.0 && fract(y * 0.5) != 0.0;
  if (odd && (bitcast<u32>(x) & 0x80000000u) != 0u) {
    r = -r;
  }
  return r;
}`,
  },
  // tanh with relative accuracy near 0: |x| < 0.05 by its odd Taylor series to x^7 (the next term is below 1e-12
  // relative), as x * (1 + x^2 * p(x^2)) so that subnormals and -0 come out exactly; the builtin elsewhere, on x
  // clamped to ±10 (where tanh rounds to ±1 in f32), which avoids the NaN some drivers return for large |x|.
  // lavapipe's tanh is off by ~3e-8 absolute near 0: tanh(1e-8) and tanh(1e-45) both came out as 2.98e-8.
  {
    name: 'kiln_tanh',
    deps: ['kiln_isnan'],
    f16: false,
    text: `fn kiln_tanh(x: f32) -> f32 {
  if (kiln_isnan(x)) {
    return x;
  }
  if (abs(x) < 0.05) {
    let s = x * x;
    return x * (1.0 + s * (-0.33333334 + s * (0.13333334 + s * -0.053968254)));
  }
  return tanh(clamp(x, -10.0, 10.0));
}`,
  },
  ...MATH_PRELUDES,
];

const byName = new Map(preludes.map((p) => [p.name, p]));

export const isPrelude = (name: string): boolean => byName.has(name);

/** The preludes to emit for a set of called names: dependencies included, in table order (deterministic). */
export function preludesFor(used: ReadonlySet<string>): Prelude[] {
  const need = new Set<string>();
  const visit = (n: string): void => {
    const p = byName.get(n);
    if (!p || need.has(n)) return;
    need.add(n);
    p.deps.forEach(visit);
  };
  used.forEach(visit);
  return preludes.filter((p) => need.has(p.name));
}
