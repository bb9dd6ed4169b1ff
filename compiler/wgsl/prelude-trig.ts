// Prelude functions for the trigonometric rows (Sin, Cos, Tan, Asin, Acos, Atan): see prelude.ts for how preludes
// are pulled in. WGSL bounds its sin and cos only on [-pi, pi], and there by an absolute error of 2^-11, and
// allows atan 4096 ulp, so these are written out: an exact argument reduction, then the single-precision
// minimax polynomials of Cephes (sinf, cosf, tanf, asinf, atanf), which keep the relative error to a few 1e-7
// (measured on lavapipe: at most 2.3e-7, near the poles of tan and the zeros of sin included). Odd functions
// return x itself for |x| < 2^-12, where the polynomial's correction is below half an ulp: that keeps -0 and
// subnormals exact.
import type { Prelude } from './prelude.js';

const NAN = 'kiln_f32_from_bits(0x7fc00000u)';

/** The fraction bits of 2/pi after the binary point, 32 per word, behind one zero word (see kiln_trig_reduce). */
export const TWO_OVER_PI_WORDS = [0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab];
const table = ['0u', ...TWO_OVER_PI_WORDS.map((w) => `0x${w.toString(16)}u`)].join(', ');

export const TRIG_PRELUDES: readonly Prelude[] = [
  // The high 32 bits of the 64-bit product a * b, from 16-bit halves (the middle sum cannot overflow).
  {
    name: 'kiln_mulhi_u32',
    deps: [],
    f16: false,
    text: `fn kiln_mulhi_u32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let hl = ah * bl;
  let mid = ((al * bl) >> 16u) + (hl & 0xffffu) + al * bh;
  return ah * bh + (hl >> 16u) + (mid >> 16u);
}`,
  },
  // 32 bits of the bit string hi:lo starting o bits into hi (a shift by 32 would be taken mod 32 in WGSL).
  {
    name: 'kiln_funnel_u32',
    deps: [],
    f16: false,
    text: `fn kiln_funnel_u32(hi: u32, lo: u32, o: u32) -> u32 {
  return select((hi << o) | (lo >> (32u - o)), hi, o == 0u);
}`,
  },
  // Payne-Hanek reduction of a finite x with |x| >= pi/4: |x| * 2/pi = q + f with q an integer and |f| <= 1/2,
  // returned as (f * pi/2, q mod 4). |x| = m * 2^e (m the 24-bit significand); the bits of 2/pi worth more than
  // 2^(1-e) only add multiples of 4 to m * 2/pi * 2^e, so 96 bits from there on, times m, are enough: the product
  // (exact, in 32-bit words) holds q's low two bits above 94 fraction bits, of which at least 64 are right after
  // the leading zeros of any f an f32 can produce. f is normalised before it is rounded to f32, so the remainder
  // keeps about 1 ulp of relative precision however close x comes to a multiple of pi/2.
  {
    name: 'kiln_trig_reduce',
    deps: ['kiln_mulhi_u32', 'kiln_funnel_u32'],
    f16: false,
    text: `fn kiln_trig_reduce(x: f32) -> vec2<f32> {
  var t = array<u32, 8>(${table});
  let b = bitcast<u32>(x) & 0x7fffffffu;
  let m = (b & 0x7fffffu) | 0x800000u;
  let p = (b >> 23u) - 120u;
  let w = p >> 5u;
  let o = p & 31u;
  let w2 = kiln_funnel_u32(t[w], t[w + 1u], o);
  let w1 = kiln_funnel_u32(t[w + 1u], t[w + 2u], o);
  let w0 = kiln_funnel_u32(t[w + 2u], t[w + 3u], o);
  let p0 = m * w0;
  let l1 = m * w1;
  let p1 = l1 + kiln_mulhi_u32(m, w0);
  let l2 = m * w2 + kiln_mulhi_u32(m, w1);
  let p2 = l2 + select(0u, 1u, p1 < l1);
  var q = p2 >> 30u;
  var f2 = p2 & 0x3fffffffu;
  var f1 = p1;
  var f0 = p0;
  let neg = (f2 & 0x20000000u) != 0u;
  if (neg) {
    q = q + 1u;
    f0 = ~f0 + 1u;
    f1 = ~f1 + select(0u, 1u, f0 == 0u);
    f2 = (~f2 + select(0u, 1u, f0 == 0u && f1 == 0u)) & 0x3fffffffu;
  }
  var sh = 30;
  if (f2 == 0u) {
    f2 = f1;
    f1 = f0;
    sh = sh + 32;
  }
  if (f2 == 0u) {
    f2 = f1;
    f1 = 0u;
    sh = sh + 32;
  }
  let z = countLeadingZeros(f2);
  let top = kiln_funnel_u32(f2, f1, z);
  let r = ldexp(f32(top), -sh - i32(z)) * 1.5707963267948966;
  return vec2<f32>(select(r, -r, neg), f32(q & 3u));
}`,
  },
  {
    name: 'kiln_sin_poly',
    deps: [],
    f16: false,
    text: `fn kiln_sin_poly(r: f32) -> f32 {
  let z = r * r;
  return ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
}`,
  },
  {
    name: 'kiln_cos_poly',
    deps: [],
    f16: false,
    text: `fn kiln_cos_poly(r: f32) -> f32 {
  let z = r * r;
  return (((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z) + 1.0;
}`,
  },
  {
    name: 'kiln_tan_poly',
    deps: [],
    f16: false,
    text: `fn kiln_tan_poly(r: f32) -> f32 {
  let z = r * r;
  return (((((9.38540185543e-3 * z + 3.11992232697e-3) * z + 2.44301354525e-2) * z + 5.34112807005e-2) * z + 1.33387994085e-1) * z + 3.33331568548e-1) * z * r + r;
}`,
  },
  // sin and cos: the polynomial on [-pi/4, pi/4] directly, beyond it on the reduced argument, choosing sin or cos
  // and the sign by quadrant. Infinities and NaN give NaN.
  {
    name: 'kiln_sin',
    deps: ['kiln_f32_from_bits', 'kiln_trig_reduce', 'kiln_sin_poly', 'kiln_cos_poly'],
    f16: false,
    text: `fn kiln_sin(x: f32) -> f32 {
  let b = bitcast<u32>(x) & 0x7fffffffu;
  if (b >= 0x7f800000u) {
    return ${NAN};
  }
  if (b < 0x39800000u) {
    return x;
  }
  if (b <= 0x3f490fdbu) {
    return kiln_sin_poly(x);
  }
  let rq = kiln_trig_reduce(x);
  let q = u32(rq.y);
  var s = select(kiln_sin_poly(rq.x), kiln_cos_poly(rq.x), (q & 1u) != 0u);
  s = select(s, -s, (q & 2u) != 0u);
  return select(s, -s, x < 0.0);
}`,
  },
  {
    name: 'kiln_cos',
    deps: ['kiln_f32_from_bits', 'kiln_trig_reduce', 'kiln_sin_poly', 'kiln_cos_poly'],
    f16: false,
    text: `fn kiln_cos(x: f32) -> f32 {
  let b = bitcast<u32>(x) & 0x7fffffffu;
  if (b >= 0x7f800000u) {
    return ${NAN};
  }
  if (b <= 0x3f490fdbu) {
    return kiln_cos_poly(x);
  }
  let rq = kiln_trig_reduce(x);
  let q = u32(rq.y);
  let c = select(kiln_cos_poly(rq.x), -kiln_sin_poly(rq.x), (q & 1u) != 0u);
  return select(c, -c, (q & 2u) != 0u);
}`,
  },
  // tan has period pi: in odd quadrants it is -1/tan of the remainder, which near a pole keeps the remainder's
  // relative precision.
  {
    name: 'kiln_tan',
    deps: ['kiln_f32_from_bits', 'kiln_trig_reduce', 'kiln_tan_poly'],
    f16: false,
    text: `fn kiln_tan(x: f32) -> f32 {
  let b = bitcast<u32>(x) & 0x7fffffffu;
  if (b >= 0x7f800000u) {
    return ${NAN};
  }
  if (b < 0x39800000u) {
    return x;
  }
  if (b <= 0x3f490fdbu) {
    return kiln_tan_poly(x);
  }
  let rq = kiln_trig_reduce(x);
  var t = kiln_tan_poly(rq.x);
  t = select(t, -1.0 / t, (u32(rq.y) & 1u) != 0u);
  return select(t, -t, x < 0.0);
}`,
  },
  // asin: the polynomial in x^2 up to |x| = 1/2; above, asin(a) = pi/2 - 2 asin(sqrt((1 - a)/2)), where 1 - a is
  // exact. |x| > 1 and NaN give NaN.
  {
    name: 'kiln_asin',
    deps: ['kiln_f32_from_bits'],
    f16: false,
    text: `fn kiln_asin(x: f32) -> f32 {
  let a = abs(x);
  if (!(a <= 1.0)) {
    return ${NAN};
  }
  if (a < 0.000244140625) {
    return x;
  }
  let big = a > 0.5;
  let z = select(a * a, 0.5 * (1.0 - a), big);
  let s = select(a, sqrt(z), big);
  var r = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * s + s;
  if (big) {
    r = 1.5707963267948966 - (r + r);
  }
  return select(r, -r, x < 0.0);
}`,
  },
  // acos near ±1 through asin of the (exactly computed) distance to ±1, so acos(1 - 2^-24) keeps its digits.
  {
    name: 'kiln_acos',
    deps: ['kiln_f32_from_bits', 'kiln_asin'],
    f16: false,
    text: `fn kiln_acos(x: f32) -> f32 {
  if (!(abs(x) <= 1.0)) {
    return ${NAN};
  }
  if (x < -0.5) {
    return 3.141592653589793 - 2.0 * kiln_asin(sqrt(0.5 * (1.0 + x)));
  }
  if (x > 0.5) {
    return 2.0 * kiln_asin(sqrt(0.5 * (1.0 - x)));
  }
  return 1.5707963267948966 - kiln_asin(x);
}`,
  },
  // atan: |x| is reduced to [0, tan(pi/8)] with atan(a) = pi/4 + atan((a - 1)/(a + 1)) and pi/2 - atan(1/a);
  // atan(±inf) = ±pi/2.
  {
    name: 'kiln_atan',
    deps: ['kiln_isnan'],
    f16: false,
    text: `fn kiln_atan(x: f32) -> f32 {
  if (kiln_isnan(x)) {
    return x;
  }
  var a = abs(x);
  if (a < 0.000244140625) {
    return x;
  }
  var y = 0.0;
  if (a > 2.414213562373095) {
    y = 1.5707963267948966;
    a = -1.0 / a;
  } else if (a > 0.41421356237309503) {
    y = 0.7853981633974483;
    a = (a - 1.0) / (a + 1.0);
  }
  let z = a * a;
  let r = y + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * a + a);
  return select(r, -r, x < 0.0);
}`,
  },
];
