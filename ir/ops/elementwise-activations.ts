// Elementwise rows for the ONNX activation functions, each the formula of its ONNX spec evaluated in float64,
// written so that it keeps relative precision where the naive formula loses it: e^x - 1 as expm1 (Elu, Selu,
// Celu near 0), log(1 + e^x) as max(x, 0) + log1p(e^-|x|) (Softplus neither overflows for large x nor rounds
// to 0 for very negative x). Where the ONNX formula multiplies an infinity by 0 (Mish, HardSwish and Swish of
// -inf: x · 0) the result is NaN, as the formula (and ONNX's function bodies) give.
import { dtypeInfo, isFloat } from '../dtype.js';
import type { ElementwiseRow } from './elementwise.js';
import { sigmoid } from './elementwise-math.js';
import { FLOAT, NUMERIC, rowWith } from './elementwise-rows.js';

export const hardSigmoid = (x: number, alpha: number, beta: number): number => Math.max(0, Math.min(1, alpha * x + beta));
export const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
export const mish = (x: number): number => x * Math.tanh(softplus(x));
export const celu = (x: number, alpha: number): number => Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));

/** ONNX's Selu defaults (float32 values of the constants from the SNN paper). */
export const SELU_ALPHA = 1.67326319217681884765625;
export const SELU_GAMMA = 1.05070102214813232421875;

const float = (value: number) => ({ kind: 'float' as const, default: value });

export const ACTIVATION_ROWS: readonly ElementwiseRow[] = [
  rowWith('HardSigmoid', 1, FLOAT, 'same', ({ attrs }) => {
    const [alpha, beta] = [attrs.float('alpha'), attrs.float('beta')];
    return (x) => hardSigmoid(x, alpha, beta);
  }, { attrs: { alpha: float(0.2), beta: float(0.5) } }),
  rowWith('HardSwish', 1, FLOAT, 'same', () => (x) => x * hardSigmoid(x, 1 / 6, 0.5)),
  rowWith('Elu', 1, FLOAT, 'same', ({ attrs }) => {
    const alpha = attrs.float('alpha');
    return (x) => (x < 0 ? alpha * Math.expm1(x) : x);
  }, { attrs: { alpha: float(1) } }),
  rowWith('Selu', 1, FLOAT, 'same', ({ attrs }) => {
    const [alpha, gamma] = [attrs.float('alpha'), attrs.float('gamma')];
    return (x) => (x > 0 ? gamma * x : gamma * (alpha * Math.expm1(x)));
  }, { attrs: { alpha: float(SELU_ALPHA), gamma: float(SELU_GAMMA) } }),
  rowWith('Celu', 1, FLOAT, 'same', ({ attrs }) => {
    const alpha = attrs.float('alpha');
    return (x) => celu(x, alpha);
  }, { attrs: { alpha: float(1) } }),
  rowWith('Softplus', 1, FLOAT, 'same', () => softplus),
  rowWith('Softsign', 1, FLOAT, 'same', () => (x) => x / (1 + Math.abs(x))),
  rowWith('Mish', 1, FLOAT, 'same', () => mish),
  rowWith('ThresholdedRelu', 1, FLOAT, 'same', ({ attrs }) => {
    const alpha = attrs.float('alpha');
    return (x) => (x > alpha ? x : 0);
  }, { attrs: { alpha: float(1) } }),
  rowWith('Shrink', 1, FLOAT, 'same', ({ attrs }) => {
    const [lambd, bias] = [attrs.float('lambd'), attrs.float('bias')];
    return (x) => (x < -lambd ? x + bias : x > lambd ? x - bias : 0);
  }, { attrs: { lambd: float(0.5), bias: float(0) } }),
  // PRelu(x, slope): slope broadcasts with x like any binary op (the importer checks ONNX's unidirectional rule).
  // Integer products wrap as Mul's do.
  rowWith('PRelu', 2, NUMERIC, 'same', ({ dtype }) =>
    isFloat(dtype) || dtypeInfo(dtype).bits > 32 ? (x, s) => (x < 0 ? s * x : x) : (x, s) => (x < 0 ? Math.imul(s, x) : x),
  ),
  rowWith('Swish', 1, FLOAT, 'same', ({ attrs }) => {
    const alpha = attrs.float('alpha');
    return (x) => x * sigmoid(alpha * x);
  }, { attrs: { alpha: float(1) } }),
];
