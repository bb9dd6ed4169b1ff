// BitMatMul: the exact integer product of m-bit activation codes and n-bit weight codes (papers.md §3), the
// specification the bit-plane kernels must equal bit for bit. A code's dtype gives its width and how its bits
// read: i<b> is two's complement (value s), u<b> is unsigned (value u) or, with the operand's `bipolar` flag,
// bipolar-INT (each bit a digit ±1: value 2u - (2^b - 1), the odd integers in ±(2^b - 1), no zero).
//   a [..., K] codes, w [M, K] codes (a Linear weight, Gemm transB's orientation)
//   y[..., m] = sum_k value(a[..., k]) * value(w[m, k])                       (group = 0: one sum over K)
//   y[..., m, g] = the same over k in [g * group, (g + 1) * group)            (group > 0: per-group sums, for
//                                                                              per-group weight scales)
// Every sum must fit an i32: K_g * max|a| * max|w| < 2^31 (K_g the group's length), else the op is refused with
// the split to use. The scales, zero points and the float result are ordinary ops around it (Cast, Mul, Sub).
import { type DType, dtypeInfo, isSubByte } from '../dtype.js';
import { OpError, registerOp } from '../op.js';
import { formatShape } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';

/** The value range of a code of this dtype, read as bipolar or not. */
export function codeValueRange(dtype: DType, bipolar: boolean): [number, number] {
  const { bits, signed } = dtypeInfo(dtype);
  if (signed) return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  return bipolar ? [-(2 ** bits - 1), 2 ** bits - 1] : [0, 2 ** bits - 1];
}

/** The integer a stored code stands for (the tensor holds the code: s for i<b>, u for u<b>). */
export const codeValue = (code: number, bits: number, bipolar: boolean): number => (bipolar ? 2 * code - (2 ** bits - 1) : code);

function checkCodes(what: string, t: TensorType, bipolar: boolean): void {
  if (!isSubByte(t.dtype)) throw new OpError(`BitMatMul: ${what} must hold integer codes of 1 to 8 bits (i1..i8, u1..u8), got ${t.dtype}`);
  if (bipolar && dtypeInfo(t.dtype).signed) throw new OpError(`BitMatMul: a bipolar ${what} holds unsigned codes (u<bits>), got ${t.dtype}`);
  if (!bipolar && t.dtype === 'i1') throw new OpError(`BitMatMul: ${what} of i1 holds only -1 and 0; use u1, or u1 with ${what}_bipolar = 1`);
}

/** The largest |sum| one group can reach. */
export function bitMatMulBound(k: number, a: DType, aBipolar: boolean, w: DType, wBipolar: boolean): number {
  const mag = (d: DType, b: boolean): number => Math.max(...codeValueRange(d, b).map(Math.abs));
  return k * mag(a, aBipolar) * mag(w, wBipolar);
}

registerOp({
  name: 'BitMatMul',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: {
    a_bipolar: { kind: 'int', default: 0 },
    w_bipolar: { kind: 'int', default: 0 },
    group: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [a, w] = checkInputs('BitMatMul', inputs, 2) as [TensorType, TensorType];
    const [ab, wb] = [attrs.int('a_bipolar') !== 0, attrs.int('w_bipolar') !== 0];
    checkCodes('a', a, ab);
    checkCodes('w', w, wb);
    if (w.shape.length !== 2 || a.shape.length < 1) throw new OpError(`BitMatMul: w must be [M, K] and a [..., K], got a ${formatShape(a.shape)}, w ${formatShape(w.shape)}`);
    const [m, k] = w.shape as [number, number];
    if (typeof k !== 'number' || typeof m !== 'number') throw new OpError(`BitMatMul: w must have a static shape, got ${formatShape(w.shape)}`);
    if (a.shape[a.shape.length - 1] !== k) throw new OpError(`BitMatMul: a ${formatShape(a.shape)} and w ${formatShape(w.shape)} differ in K`);
    const group = attrs.int('group');
    if (group < 0) throw new OpError(`BitMatMul: group must be >= 0 (0: one sum over K), got ${group}`);
    const kg = group > 0 ? Math.min(group, k) : k;
    const bound = bitMatMulBound(kg, a.dtype, ab, w.dtype, wb);
    if (bound >= 2 ** 31)
      throw new OpError(`BitMatMul: sums over ${kg} products of ${a.dtype} x ${w.dtype} can reach ${bound}, past i32; set group to at most ${Math.floor((2 ** 31 - 1) / (bound / kg))}`);
    const lead = a.shape.slice(0, -1);
    return [tensorType('i32', group > 0 ? [...lead, m, Math.ceil(k / group)] : [...lead, m])];
  },
  reference(inputs, attrs, outTypes) {
    const [a, w] = inputs as [Tensor, Tensor];
    const [m, k] = staticShape(typeOfCodes(w)) as [number, number];
    const group = attrs.int('group') || k;
    const groups = Math.ceil(k / group);
    const [aBits, wBits] = [dtypeInfo(a.dtype).bits, dtypeInfo(w.dtype).bits];
    const [ab, wb] = [attrs.int('a_bipolar') !== 0, attrs.int('w_bipolar') !== 0];
    const rows = a.data.length / k;
    const av = Float64Array.from(a.data, (c) => codeValue(c, aBits, ab));
    const wv = Float64Array.from(w.data, (c) => codeValue(c, wBits, wb));
    return [
      makeTensor('i32', staticShape(outTypes[0]!), (i) => {
        const g = i % groups;
        const j = Math.floor(i / groups) % m;
        const r = Math.floor(i / (groups * m));
        let s = 0;
        for (let kk = g * group; kk < Math.min(k, (g + 1) * group); kk++) s += av[r * k + kk]! * wv[j * k + kk]!;
        return s;
      }),
    ];
  },
});

const typeOfCodes = (t: Tensor): TensorType => tensorType(t.dtype, t.shape);
