// The math, activation and integer rows of the elementwise table (elementwise-math.ts, -activations.ts, -int.ts)
// through the interpreter: ONNX's examples, special values (NaN, ±inf, -0, domain edges), precision where the
// naive formula loses it, and integer wrapping.
import { describe, expect, it } from 'vitest';
import { type Attrs, type DType, GraphBuilder, type Tensor, interpret, makeTensor, roundF16, tensorType } from '../../ir/index.js';
import { celu, mish, softplus } from '../../ir/ops/elementwise-activations.js';
import { intPow } from '../../ir/ops/elementwise-int.js';
import { sign } from '../../ir/ops/elementwise-math.js';

function run(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => b.input(`x${i}`, tensorType(t.dtype, t.shape)));
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), Object.fromEntries(names.map((n, i) => [n, inputs[i]!])))[y]!;
}

const t = (dtype: DType, values: readonly number[]): Tensor => makeTensor(dtype, [values.length], values);
const out = (op: string, dtype: DType, xs: readonly number[], attrs: Attrs = {}): number[] => [...run(op, [t(dtype, xs)], attrs).data];
const out2 = (op: string, dtype: DType, xs: readonly number[], ys: readonly number[], attrs: Attrs = {}): number[] => [
  ...run(op, [t(dtype, xs), t(dtype, ys)], attrs).data,
];
const f32 = (xs: readonly number[]): number[] => xs.map(Math.fround);
const isNegZero = (v: number | undefined): boolean => Object.is(v, -0);

describe('trigonometric and hyperbolic rows', () => {
  it('round the float64 value of the f32 input to the dtype', () => {
    // sin of the f32 nearest pi is the distance to pi, not 0; sin(1e22) needs the full argument reduction.
    expect(out('Sin', 'f32', [Math.PI, 1e22])).toEqual(f32([-8.742278012618954e-8, Math.sin(Math.fround(1e22))]));
    expect(out('Cos', 'f32', [0, Math.PI / 3])).toEqual(f32([1, Math.cos(Math.fround(Math.PI / 3))]));
    expect(out('Tan', 'f16', [1])).toEqual([roundF16(Math.tan(1))]);
    expect(out('Atan', 'f32', [Infinity, -Infinity, 1])).toEqual(f32([Math.PI / 2, -Math.PI / 2, Math.PI / 4]));
    expect(out('Acosh', 'f32', [10, Math.E, 1])).toEqual(f32([2.993222846126381, Math.acosh(Math.fround(Math.E)), 0]));
  });

  it('follow C and numpy at special values', () => {
    expect(out('Sin', 'f32', [Infinity, -Infinity, NaN])).toEqual([NaN, NaN, NaN]);
    expect(out('Tan', 'f32', [Infinity])).toEqual([NaN]);
    expect(out('Asin', 'f32', [2, -1.5, 1, -1])).toEqual([NaN, NaN, ...f32([Math.PI / 2, -Math.PI / 2])]);
    expect(out('Acos', 'f32', [1, -1, 1.01])).toEqual([0, Math.fround(Math.PI), NaN]);
    expect(out('Atanh', 'f32', [1, -1, 1.5])).toEqual([Infinity, -Infinity, NaN]);
    expect(out('Acosh', 'f32', [0.5, -1, Infinity])).toEqual([NaN, NaN, Infinity]);
    expect(out('Sinh', 'f32', [100, -100])).toEqual([Infinity, -Infinity]);
    expect(out('Cosh', 'f32', [-100, 0])).toEqual([Infinity, 1]);
    expect(out('Sinh', 'f32', [89.4])).toEqual([Math.fround(Math.sinh(Math.fround(89.4)))]); // finite although e^89.4 is not
    expect(out('Cosh', 'f16', [12])).toEqual([Infinity]); // beyond f16's range
  });

  it('keep the sign of zero in odd functions', () => {
    for (const op of ['Sin', 'Tan', 'Asin', 'Atan', 'Sinh', 'Asinh', 'Atanh']) expect(isNegZero(out(op, 'f32', [-0])[0])).toBe(true);
    expect(out('Cos', 'f32', [-0])).toEqual([1]);
    expect(out('Acos', 'f32', [-0])).toEqual([Math.fround(Math.PI / 2)]);
  });
});

describe('Sign, IsNaN, IsInf', () => {
  it('Sign is numpy sign: ±1, +0 for both zeros, NaN for NaN; integers too', () => {
    const s = out('Sign', 'f32', [-2.5, -0, 0, 3, NaN, -Infinity]);
    expect(s).toEqual([-1, 0, 0, 1, NaN, -1]);
    expect(Object.is(s[1], 0)).toBe(true);
    expect(out('Sign', 'i8', [-128, 0, 5])).toEqual([-1, 0, 1]);
    expect(out('Sign', 'u8', [0, 200])).toEqual([0, 1]);
    expect(sign(-1e-300)).toBe(-1);
  });

  it('IsNaN and IsInf give bool, IsInf per detect_positive / detect_negative', () => {
    const x = [NaN, Infinity, -Infinity, 0, 3e38];
    expect(run('IsNaN', [t('f32', x)]).dtype).toBe('bool');
    expect(out('IsNaN', 'f16', x)).toEqual([1, 0, 0, 0, 0]);
    expect(out('IsInf', 'f32', x)).toEqual([0, 1, 1, 0, 0]);
    expect(out('IsInf', 'f32', x, { detect_negative: 0 })).toEqual([0, 1, 0, 0, 0]);
    expect(out('IsInf', 'f32', x, { detect_positive: 0 })).toEqual([0, 0, 1, 0, 0]);
    expect(out('IsInf', 'f32', x, { detect_positive: 0, detect_negative: 0 })).toEqual([0, 0, 0, 0, 0]);
    // 1e5 is finite in f32 and infinite once rounded to f16.
    expect(out('IsInf', 'f16', [1e5])).toEqual([1]);
  });
});

describe('activation rows', () => {
  it("match ONNX's examples", () => {
    expect(out('Elu', 'f32', [-1, 0, 1], { alpha: 2 })).toEqual(f32([-1.2642411176571153, 0, 1]));
    const selu = out('Selu', 'f32', [-1, 0, 1], { alpha: 2, gamma: 3 });
    expect(selu.slice(1)).toEqual([0, 3]);
    expect(selu[0]).toBeCloseTo(-3.79272318, 6);
    expect(out('Celu', 'f32', [-1, 0, 1])).toEqual(f32([-0.6321205588285577, 0, 1]));
    expect(out('HardSigmoid', 'f32', [-1, 0, 1], { alpha: 0.5, beta: 0.6 })).toEqual(f32([0.1, 0.6, 1]));
    expect(out('HardSwish', 'f32', [-4, -3, -1, 0, 1.5, 3, 4])).toEqual(f32([-0, -0, -1 / 3, 0, 1.125, 3, 4]));
    expect(out('Softsign', 'f32', [-1, 0, 1])).toEqual([-0.5, 0, 0.5]);
    expect(out('ThresholdedRelu', 'f32', [-1, 0, 1, 2, 2.2], { alpha: 2 })).toEqual(f32([0, 0, 0, 0, 2.2]));
    expect(out('Shrink', 'f32', [-2, -1, 0, 1, 2], { lambd: 1.5 })).toEqual([-2, 0, 0, 0, 2]);
    expect(out('Shrink', 'f32', [-2, -1, 0, 1, 2], { lambd: 1.5, bias: 1.5 })).toEqual([-0.5, 0, 0, 0, 0.5]);
    expect(out('Swish', 'f32', [1, -1], { alpha: 2 })).toEqual(f32([1 / (1 + Math.exp(-2)), -1 / (1 + Math.exp(2))]));
  });

  it('use the ONNX defaults', () => {
    expect(out('HardSigmoid', 'f32', [1])).toEqual([Math.fround(0.7)]);
    expect(out('Elu', 'f32', [-1])).toEqual([Math.fround(Math.expm1(-1))]);
    const [alpha, gamma] = [1.67326319217681884765625, 1.05070102214813232421875];
    expect(out('Selu', 'f32', [-1, 2])).toEqual(f32([gamma * alpha * Math.expm1(-1), gamma * 2]));
    expect(out('ThresholdedRelu', 'f32', [1, 1.5])).toEqual([0, 1.5]);
    expect(out('Shrink', 'f32', [0.5, 0.75])).toEqual([0, 0.75]);
    expect(out('Swish', 'f32', [2])).toEqual([Math.fround(2 / (1 + Math.exp(-2)))]);
  });

  it('keep relative precision where the naive formulas lose it', () => {
    // log(1 + e^x): no overflow at 1000, not rounded to 0 at -100 (e^-100 is far below 1's ulp).
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-100) / Math.exp(-100) - 1).toBeLessThan(1e-15);
    expect(out('Softplus', 'f32', [-100])).toEqual([Math.fround(Math.exp(-100))]);
    // e^x - 1 near 0 as expm1: Elu(-1e-10) is -1e-10, not -1.000000082740371e-10.
    expect(out('Elu', 'f32', [-1e-10])).toEqual([Math.fround(-1e-10)]);
    expect(celu(-1e-10, 1)).toBe(Math.expm1(-1e-10));
    // Mish ~ x·e^x far left.
    expect(mish(-30) / (-30 * Math.exp(-30)) - 1).toBeLessThan(1e-12);
  });

  it('give NaN where the formula multiplies an infinity by 0, and handle NaN and -0', () => {
    for (const op of ['Mish', 'HardSwish', 'Swish']) expect(out(op, 'f32', [-Infinity, Infinity, NaN])).toEqual([NaN, Infinity, NaN]);
    expect(out('Softsign', 'f32', [Infinity, -Infinity, 1e30])).toEqual([NaN, NaN, 1]);
    expect(out('Softplus', 'f32', [Infinity, -Infinity, NaN])).toEqual([Infinity, 0, NaN]);
    expect(out('Elu', 'f32', [-Infinity, NaN])).toEqual([-1, NaN]);
    expect(out('Celu', 'f32', [-Infinity], { alpha: 2 })).toEqual([-2]);
    expect(out('ThresholdedRelu', 'f32', [NaN])).toEqual([0]);
    expect(out('Shrink', 'f32', [NaN])).toEqual([0]);
    expect(out('HardSigmoid', 'f32', [NaN, Infinity], { alpha: 0 })).toEqual([NaN, NaN]); // 0 * inf
    expect(isNegZero(out('Elu', 'f32', [-0])[0])).toBe(true);
    expect(isNegZero(out('Selu', 'f32', [-0])[0])).toBe(true);
    expect(Object.is(out('Celu', 'f32', [-0])[0], 0)).toBe(true); // max(0, -0) + min(0, -0) = +0
    expect(isNegZero(out('Mish', 'f32', [-0])[0])).toBe(true);
  });

  it('PRelu: slope broadcasts; integer products wrap', () => {
    const y = run('PRelu', [makeTensor('f32', [2, 2], [-2, 3, -4, NaN]), t('f32', [0.25, 0.5])]);
    expect([...y.data]).toEqual([-0.5, 3, -1, NaN]);
    expect(out2('PRelu', 'i8', [-100, 5], [3, 3])).toEqual([-44, 5]);
    expect(out2('PRelu', 'f32', [-Infinity, -0], [0, 2])).toEqual([NaN, -0]);
  });
});

describe('integer rows', () => {
  const X = [-4, 7, 5, 4, -7, 8];
  const Y = [2, -3, 8, -2, 3, 5];

  it('Mod: fmod=0 takes the sign of the divisor, fmod=1 that of the dividend', () => {
    expect(out2('Mod', 'i32', X, Y)).toEqual([0, -2, 5, 0, 2, 3]);
    expect(out2('Mod', 'i8', X, Y, { fmod: 1 })).toEqual([0, 1, 5, 0, -1, 3]);
    expect(out2('Mod', 'u8', [7, 255], [3, 16])).toEqual([1, 15]);
    expect(out2('Mod', 'i32', [5, -2147483648, 5], [0, -1, 0], { fmod: 1 })).toEqual([0, 0, 0]);
    expect(out2('Mod', 'i32', [5], [0])).toEqual([0]);
  });

  it('Mod on floats: exact fmod, and numpy mod for fmod=0', () => {
    const x = [-4.3, 7.2, 5, 4.3, -7.2, 8];
    const y = [2.1, -3.4, 8, -2.1, 3.4, 5];
    expect(out2('Mod', 'f32', x, y, { fmod: 1 })).toEqual(f32(x).map((v, i) => v % Math.fround(y[i]!)));
    // fmod is exact: 1e30 (as f32) mod 3, from its exact integer value.
    const big = Math.fround(1e30);
    expect(out2('Mod', 'f32', [big], [3], { fmod: 1 })).toEqual([Number(BigInt(big) % 3n)]);
    const m = out2('Mod', 'f32', [-1, 1, -0, 3, 1, -1], [3, -3, 3, -3, 0, Infinity]);
    expect(m).toEqual([2, -2, 0, -0, NaN, Infinity]);
    expect(isNegZero(m[3])).toBe(true);
    expect(Object.is(m[2], 0)).toBe(true);
    expect(() => run('Mod', [t('i32', [1]), t('i32', [1])], { fmod: 2 })).toThrow('Mod: fmod must be 0 or 1, got 2');
  });

  it('shifts follow numpy: out-of-range amounts give 0 or the sign fill, left shifts wrap', () => {
    expect(out2('BitShiftLeft', 'u8', [16, 4, 1, 255, 1], [1, 2, 3, 1, 8])).toEqual([32, 16, 8, 254, 0]);
    expect(out2('BitShiftRight', 'u8', [16, 4, 1], [1, 2, 3])).toEqual([8, 1, 0]);
    expect(out2('BitShiftLeft', 'u32', [1, 1, 3], [31, 32, 31])).toEqual([2147483648, 0, 2147483648]);
    expect(out2('BitShiftRight', 'u32', [4294967295, 5], [31, 40])).toEqual([1, 0]);
    expect(out2('BitShiftRight', 'i8', [-128, -1, 100, -5], [1, 10, 9, -1])).toEqual([-64, -1, 0, -1]);
    expect(out2('BitShiftLeft', 'i32', [-1, 3], [-1, 30])).toEqual([0, -1073741824]);
  });

  it('bitwise ops on the dtype two-complement bits, i64 included', () => {
    expect(out2('BitwiseAnd', 'u32', [0xffffffff, 12], [0xf0f0f0f0, 10])).toEqual([0xf0f0f0f0, 8]);
    expect(out2('BitwiseOr', 'i8', [-128, 12], [1, 10])).toEqual([-127, 14]);
    expect(out2('BitwiseXor', 'u4', [15, 12], [1, 10])).toEqual([14, 6]);
    expect(out('BitwiseNot', 'u8', [0, 255])).toEqual([255, 0]);
    expect(out('BitwiseNot', 'i4', [3, -8])).toEqual([-4, 7]);
    expect(out('BitwiseNot', 'u32', [0])).toEqual([4294967295]);
    expect(out2('BitwiseAnd', 'i64', [2 ** 40 + 5], [2 ** 40 + 3])).toEqual([2 ** 40 + 1]);
    expect(out('BitwiseNot', 'i64', [2 ** 40])).toEqual([-(2 ** 40) - 1]);
  });

  it('Pow on integers wraps like repeated multiplication and defines negative exponents', () => {
    expect(out2('Pow', 'i32', [2, 3, -2, 0, 7], [10, 0, 3, 0, 1])).toEqual([1024, 1, -8, 1, 7]);
    const wrapped = Number(BigInt.asIntN(32, 3n ** 40n));
    expect(out2('Pow', 'i32', [3], [40])).toEqual([wrapped]);
    expect(out2('Pow', 'u8', [3, 2, 255], [5, 8, 2])).toEqual([243, 0, 1]);
    expect(out2('Pow', 'u32', [4294967295], [3])).toEqual([4294967295]);
    expect(out2('Pow', 'i32', [1, -1, -1, 2, 0], [-5, -3, -2, -1, -1])).toEqual([1, -1, 1, 0, 0]);
    expect(intPow(3, 2 ** 31 - 1, 32)).toBe(Number(BigInt.asIntN(32, modPow(3n, 2n ** 31n - 1n))));
  });
});

/** 3^e mod 2^32 by BigInt square-and-multiply (the oracle for intPow's wrapping). */
function modPow(b: bigint, e: bigint): bigint {
  let [acc, base] = [1n, b];
  for (let n = e; n > 0n; n >>= 1n) {
    if (n & 1n) acc = (acc * base) % 2n ** 32n;
    base = (base * base) % 2n ** 32n;
  }
  return acc;
}
