// Prelude functions for erf/erfc (Gelu) and the hyperbolic, activation and integer rows (see prelude.ts for how preludes are pulled
// in). log1p and expm1 keep relative precision near 0, which log(1 + x) and exp(x) - 1 lose (lavapipe's log is
// itself off near 1: log(0.9999) came out 9e-4 off, relatively, so kiln_log is only used away from 1). Odd
// functions return x itself for |x| < 2^-12, where their series' correction is below half an ulp, keeping -0 and
// subnormals exact. The trigonometric preludes (prelude-trig.ts) are listed here too, so prelude.ts takes one
// list of math helpers.
import type { Prelude } from './prelude.js';
import { TRIG_PRELUDES } from './prelude-trig.js';

const NAN = 'kiln_f32_from_bits(0x7fc00000u)';

export const MATH_PRELUDES: readonly Prelude[] = [
  // erfc with the Chebyshev fit of Numerical Recipes (erfcc): relative error < 1.2e-7 everywhere, so Gelu's far
  // negative tail keeps its relative precision.
  {
    name: 'kiln_erfc',
    deps: ['kiln_exp'],
    f16: false,
    text: `fn kiln_erfc(x: f32) -> f32 {
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * kiln_exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(r, 2.0 - r, x < 0.0);
}`,
  },
  // erf to ~1e-7 absolute: its Taylor series below 0.5 (relative accuracy near 0), 1 - erfc above.
  {
    name: 'kiln_erf',
    deps: ['kiln_erfc'],
    f16: false,
    text: `fn kiln_erf(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let s = x * x;
    let p = 1.0 + s * (-0.3333333333333333 + s * (0.1 + s * (-0.023809523809523808 + s * (0.004629629629629629 + s * (-0.0007575757575757576 + s * 0.00010683760683760684)))));
    return 1.1283791670955126 * x * p;
  }
  return sign(x) * (1.0 - kiln_erfc(abs(x)));
}`,
  },
  ...TRIG_PRELUDES,
  // log(1 + x): for -1/4 < x < 0.4 by 2 atanh(s) = 2(s + s^3/3 + ...) with s = x / (2 + x) (|s| < 1/6, so six terms
  // reach 1e-11), elsewhere by log(1 + x), whose rounding then costs under an ulp.
  {
    name: 'kiln_log1p',
    deps: ['kiln_log'],
    f16: false,
    text: `fn kiln_log1p(x: f32) -> f32 {
  if (abs(x) < 5.9604645e-8) {
    return x;
  }
  if (x > -0.25 && x < 0.4) {
    let s = x / (2.0 + x);
    let z = s * s;
    return 2.0 * s * (1.0 + z * (0.33333333 + z * (0.2 + z * (0.14285714 + z * (0.11111111 + z * 0.09090909)))));
  }
  return kiln_log(1.0 + x);
}`,
  },
  // exp(x) - 1: below |x| = 1/2 its Taylor series to x^8 (the rest is under 2e-8 relative), as x * (1 + ...) so
  // that -0 and subnormals come out exactly; above, exp(x) - 1 cancels by less than a bit.
  {
    name: 'kiln_expm1',
    deps: ['kiln_isnan', 'kiln_exp'],
    f16: false,
    text: `fn kiln_expm1(x: f32) -> f32 {
  if (kiln_isnan(x)) {
    return x;
  }
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666667 + x * (0.041666668 + x * (0.008333334 + x * (0.0013888889 + x * (0.0001984127 + x * 2.4801588e-5)))))));
  }
  return kiln_exp(x) - 1.0;
}`,
  },
  // a * b with inf * 0 = NaN, as IEEE (and the interpreter) has it; WGSL lets a driver assume no infinities.
  {
    name: 'kiln_mul_ieee',
    deps: ['kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_mul_ieee(a: f32, b: f32) -> f32 {
  let ia = (bitcast<u32>(a) & 0x7fffffffu) == 0x7f800000u;
  let ib = (bitcast<u32>(b) & 0x7fffffffu) == 0x7f800000u;
  if ((ia && b == 0.0) || (ib && a == 0.0)) {
    return ${NAN};
  }
  return a * b;
}`,
  },
  // sinh: Cephes' sinhf polynomial up to |x| = 1, (e - 1/e)/2 up to 9, and beyond (e^(|x|/2) / 2) * e^(|x|/2),
  // which stays finite up to sinh's own overflow at 89.4 (where e^|x| alone overflows from 88.7).
  {
    name: 'kiln_sinh',
    deps: ['kiln_exp'],
    f16: false,
    text: `fn kiln_sinh(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.000244140625) {
    return x;
  }
  var r: f32;
  if (a > 9.0) {
    let h = kiln_exp(0.5 * a);
    r = (0.5 * h) * h;
  } else if (a > 1.0) {
    let e = kiln_exp(a);
    r = 0.5 * e - 0.5 / e;
  } else {
    let z = a * a;
    r = ((2.03721912945e-4 * z + 8.33028376239e-3) * z + 1.66667160211e-1) * z * a + a;
  }
  return select(r, -r, x < 0.0);
}`,
  },
  {
    name: 'kiln_cosh',
    deps: ['kiln_isnan', 'kiln_exp'],
    f16: false,
    text: `fn kiln_cosh(x: f32) -> f32 {
  if (kiln_isnan(x)) {
    return x;
  }
  let a = abs(x);
  if (a > 9.0) {
    let h = kiln_exp(0.5 * a);
    return (0.5 * h) * h;
  }
  let e = kiln_exp(a);
  return 0.5 * e + 0.5 / e;
}`,
  },
  // asinh(a) = log(a + sqrt(a^2 + 1)), written as log1p(a + a^2 / (1 + sqrt(1 + a^2))) up to 2 (no cancellation near
  // 0), and as log(a) + log 2 above 2^28 (where a^2 + 1 rounds to a^2, and before a^2 overflows).
  {
    name: 'kiln_asinh',
    deps: ['kiln_log', 'kiln_log1p'],
    f16: false,
    text: `fn kiln_asinh(x: f32) -> f32 {
  let a = abs(x);
  if (!(a >= 0.000244140625)) {
    return x;
  }
  var r: f32;
  if (a > 268435456.0) {
    r = kiln_log(a) + 0.6931471805599453;
  } else if (a > 2.0) {
    r = kiln_log(2.0 * a + 1.0 / (sqrt(a * a + 1.0) + a));
  } else {
    let t = a * a;
    r = kiln_log1p(a + t / (1.0 + sqrt(1.0 + t)));
  }
  return select(r, -r, x < 0.0);
}`,
  },
  // acosh(x) = log(x + sqrt(x^2 - 1)), near 1 as log1p(t + sqrt(2t + t^2)) with t = x - 1 exact; NaN below 1.
  {
    name: 'kiln_acosh',
    deps: ['kiln_f32_from_bits', 'kiln_log', 'kiln_log1p'],
    f16: false,
    text: `fn kiln_acosh(x: f32) -> f32 {
  if (!(x >= 1.0)) {
    return ${NAN};
  }
  if (x > 268435456.0) {
    return kiln_log(x) + 0.6931471805599453;
  }
  if (x > 2.0) {
    return kiln_log(2.0 * x - 1.0 / (x + sqrt(x * x - 1.0)));
  }
  let t = x - 1.0;
  return kiln_log1p(t + sqrt(2.0 * t + t * t));
}`,
  },
  // atanh(a) = log1p(2a / (1 - a)) / 2, with 1 - a exact for a >= 1/2 and, below, 2a / (1 - a) = 2a + 2a^2 / (1 - a);
  // ±1 give ±inf, |x| > 1 NaN.
  {
    name: 'kiln_atanh',
    deps: ['kiln_f32_from_bits', 'kiln_fdiv', 'kiln_log1p'],
    f16: false,
    text: `fn kiln_atanh(x: f32) -> f32 {
  let a = abs(x);
  if (!(a >= 0.000244140625)) {
    return x;
  }
  if (a > 1.0) {
    return ${NAN};
  }
  var r: f32;
  if (a < 0.5) {
    let t = a + a;
    r = 0.5 * kiln_log1p(t + t * a / (1.0 - a));
  } else {
    r = 0.5 * kiln_log1p(kiln_fdiv(a + a, 1.0 - a));
  }
  return select(r, -r, x < 0.0);
}`,
  },
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, no rounding to 0 for very negative x. Near 0
  // by its series log 2 + x/2 + x^2/8, so softplus(±0) is log 2 exactly rounded.
  {
    name: 'kiln_softplus',
    deps: ['kiln_max', 'kiln_exp', 'kiln_log1p'],
    f16: false,
    text: `fn kiln_softplus(x: f32) -> f32 {
  if (abs(x) < 0.015625) {
    return 0.6931471805599453 + x * (0.5 + x * 0.125);
  }
  return kiln_max(x, 0.0) + kiln_log1p(kiln_exp(-abs(x)));
}`,
  },
  // x * tanh(softplus(x)) = x * n(n + 2) / (n(n + 2) + 2) with n = e^x: one exp, and relative precision for very
  // negative x, where tanh(softplus(x)) ~ e^x. Above 20 the factor rounds to 1; -inf gives -inf * 0 = NaN.
  {
    name: 'kiln_mish',
    deps: ['kiln_exp', 'kiln_mul_ieee'],
    f16: false,
    text: `fn kiln_mish(x: f32) -> f32 {
  if (x > 20.0) {
    return x;
  }
  let n = kiln_exp(x);
  let t = n * (n + 2.0);
  return kiln_mul_ieee(x, t / (t + 2.0));
}`,
  },
  // C's fmod, exactly (musl's fmodf in integer arithmetic: a binary long division of the significands). NaN for a
  // zero or NaN divisor and for an infinite or NaN dividend; x itself when |x| < |y| (y = ±inf included).
  {
    name: 'kiln_fmod',
    deps: ['kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_fmod(x: f32, y: f32) -> f32 {
  let ax = bitcast<u32>(x) & 0x7fffffffu;
  let ay = bitcast<u32>(y) & 0x7fffffffu;
  let sx = bitcast<u32>(x) & 0x80000000u;
  if (ay == 0u || ay > 0x7f800000u || ax >= 0x7f800000u) {
    return ${NAN};
  }
  if (ax < ay) {
    return x;
  }
  if (ax == ay) {
    return bitcast<f32>(sx);
  }
  var ex = i32(ax >> 23u);
  var ey = i32(ay >> 23u);
  var mx = (ax & 0x7fffffu) | 0x800000u;
  var my = (ay & 0x7fffffu) | 0x800000u;
  if (ex == 0) {
    let z = countLeadingZeros(ax << 9u);
    ex = -i32(z);
    mx = ax << (z + 1u);
  }
  if (ey == 0) {
    let z = countLeadingZeros(ay << 9u);
    ey = -i32(z);
    my = ay << (z + 1u);
  }
  loop {
    if (mx >= my) {
      if (mx == my) {
        return bitcast<f32>(sx);
      }
      mx = mx - my;
    }
    if (ex <= ey) {
      break;
    }
    mx = mx << 1u;
    ex = ex - 1;
  }
  let z = countLeadingZeros(mx) - 8u;
  mx = mx << z;
  ex = ex - i32(z);
  if (ex > 0) {
    mx = (mx - 0x800000u) | (u32(ex) << 23u);
  } else {
    mx = mx >> u32(1 - ex);
  }
  return bitcast<f32>(mx | sx);
}`,
  },
  // numpy's float mod (Python's %): fmod's remainder moved into the divisor's sign; a zero takes the divisor's sign.
  {
    name: 'kiln_fmod_floor',
    deps: ['kiln_isnan', 'kiln_fmod'],
    f16: false,
    text: `fn kiln_fmod_floor(x: f32, y: f32) -> f32 {
  let r = kiln_fmod(x, y);
  if (kiln_isnan(r)) {
    return r;
  }
  if (r == 0.0) {
    return bitcast<f32>(bitcast<u32>(y) & 0x80000000u);
  }
  return select(r, r + y, (r < 0.0) != (y < 0.0));
}`,
  },
  // Integer remainders with a divisor of 0 giving 0 (as integer Div); x % -1 is 0 whatever x (WGSL leaves
  // i32_min % -1 alone only by its own rule, so it is never evaluated).
  {
    name: 'kiln_imod',
    deps: [],
    f16: false,
    text: `fn kiln_imod(x: i32, y: i32, floored: bool) -> i32 {
  if (y == 0i || y == -1i) {
    return 0i;
  }
  let r = x % y;
  return select(r, r + y, floored && r != 0i && ((r < 0i) != (y < 0i)));
}`,
  },
  // x^y by repeated squaring, wrapping like integer multiplication; a negative exponent gives trunc(1/x^|y|).
  {
    name: 'kiln_ipow_i32',
    deps: [],
    f16: false,
    text: `fn kiln_ipow_i32(x: i32, y: i32) -> i32 {
  if (y < 0i) {
    if (x == 1i) {
      return 1i;
    }
    return select(0i, select(1i, -1i, (y & 1i) != 0i), x == -1i);
  }
  var n = u32(y);
  var b = x;
  var acc = 1i;
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
  return acc;
}`,
  },
  {
    name: 'kiln_ipow_u32',
    deps: [],
    f16: false,
    text: `fn kiln_ipow_u32(x: u32, y: u32) -> u32 {
  var n = y;
  var b = x;
  var acc = 1u;
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
  return acc;
}`,
  },
];
