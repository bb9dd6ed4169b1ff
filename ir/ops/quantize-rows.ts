// QuantizeRows: dynamic per-row (per-token) quantization of activations to `bits`-bit codes for BitMatMul, with
// a power-of-two scale per row, so that every step is exact in f32 on any implementation: x / scale is an
// exponent shift, and the codes the kernels compute are bit-identical to these (a scale that is any float would
// make the codes depend on how a device rounds its division; OCP's microscaling formats share power-of-two
// scales for the same reason). Costs at most one bit of range against an absmax scale.
//   signed (bipolar = 0, bits >= 2):  q = clamp(round(x / s), -Q, Q), Q = 2^(bits-1) - 1, code i<bits> = q
//   bipolar (bipolar = 1):            v = the odd integer nearest x / s, clamped to ±Q, Q = 2^bits - 1,
//                                     code u<bits> = (v + Q) / 2 (BitMatMul reads it back as 2u - Q = v)
// with s = 2^e, e the least integer with absmax(row) <= Q * 2^e (e = 0 for an all-zero row); round is half to
// even (a row holding NaN or an infinity: e = 0). Outputs: the codes [..., K] and the scales f32 [..., 1]; x ~ s * value(code).
import { isFloat } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';
import { roundHalfEven } from './elementwise-table.js';

/** The largest |value| of a row's codes. */
export const rowCodeMax = (bits: number, bipolar: boolean): number => (bipolar ? 2 ** bits - 1 : 2 ** (bits - 1) - 1);

/** e such that 2^e is the row's scale: the least e with absmax <= q * 2^e (0 for absmax 0). */
export function rowScaleExponent(absmax: number, q: number): number {
  // An all-zero row, and one holding NaN or an infinity (whose codes are then the clamp's), get scale 1.
  if (!(absmax > 0) || !Number.isFinite(absmax)) return 0;
  let e = Math.ceil(Math.log2(absmax / q));
  // log2 rounds: settle e exactly with comparisons of exact powers of two.
  while (q * 2 ** e < absmax) e++;
  while (q * 2 ** (e - 1) >= absmax) e--;
  return e;
}

/** The code of one value at scale 2^e. */
export function rowCode(x: number, e: number, bits: number, bipolar: boolean): number {
  const q = rowCodeMax(bits, bipolar);
  const t = x * 2 ** -e;
  if (!bipolar) return Math.min(q, Math.max(-q, roundHalfEven(t)));
  const v = Math.min(q, Math.max(-q, 2 * roundHalfEven((t - 1) / 2) + 1));
  return (v + q) / 2;
}

registerOp({
  name: 'QuantizeRows',
  inputs: { min: 1, max: 1 },
  outputs: 2,
  attrs: {
    bits: { kind: 'int' },
    bipolar: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('QuantizeRows', inputs, 1) as [TensorType];
    if (!isFloat(x.dtype)) throw new OpError(`QuantizeRows: x must be a float tensor, got ${x.dtype}`);
    if (x.shape.length < 1) throw new OpError('QuantizeRows: x must have rank >= 1 (rows along the last axis)');
    const bits = attrs.int('bits');
    const bipolar = attrs.int('bipolar') !== 0;
    if (!Number.isInteger(bits) || bits < (bipolar ? 1 : 2) || bits > 8)
      throw new OpError(`QuantizeRows: bits must be ${bipolar ? '1' : '2'}..8 for ${bipolar ? 'bipolar' : 'signed'} codes, got ${bits}`);
    return [tensorType(`${bipolar ? 'u' : 'i'}${bits}` as TensorType['dtype'], x.shape), tensorType('f32', [...x.shape.slice(0, -1), 1])];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0] as Tensor;
    const bits = attrs.int('bits');
    const bipolar = attrs.int('bipolar') !== 0;
    const shape = staticShape(outTypes[0]!);
    const k = shape[shape.length - 1]!;
    const rows = k === 0 ? 0 : x.data.length / k;
    const exps = Array.from({ length: rows }, (_, r) => {
      let m = 0;
      for (let i = r * k; i < (r + 1) * k; i++) m = Math.max(m, Math.abs(x.data[i]!));
      return rowScaleExponent(m, rowCodeMax(bits, bipolar));
    });
    const codes = makeTensor(outTypes[0]!.dtype, shape, (i) => rowCode(x.data[i]!, exps[Math.floor(i / k)]!, bits, bipolar));
    return [codes, makeTensor('f32', staticShape(outTypes[1]!), (r) => 2 ** exps[r]!)];
  },
});
