// A pre-quantized linear weight (ONNX MatMulNBits, GPTQ, AWQ: ../shared/docs/quant-formats.md) as one constant
// under kiln's quant encoding (ir/encoding.ts): its n-bit codes stored as they are (u<bits>, packed by the
// codec), one scale and one zero point per group of `group` inputs, and the dequantized value
// W[n][k] = scale[n][g] * (code[n][k] - zero[n][g]) as its meaning. The importers only re-order codes into this one
// layout; nothing is widened to float, so the artifact stores the codes (materialize-encodings decodes them on the
// device, or a kernel reads them in place). Codes are stored [N outputs, K inputs], grouped along K:
//   linear   the logical weight is [N, K] (nn.Linear's orientation, read by Gemm transB = 1)
//   matmul   the logical weight is [K, N] in the transposed layout (read by MatMul(x, W)), the same storage
import type { GraphBuilder } from '../builder.js';
import type { DType } from '../dtype.js';
import { type Encoding, quantEncoding } from '../encoding.js';
import { ROW_MAJOR, TRANSPOSED } from '../layout.js';
import { makeTensor } from '../tensor.js';
import { tensorType } from '../types.js';

export interface QuantWeightSpec {
  /** The weight constant's name; its scales and zeros take `${name}.scales` and `${name}.zeros`. */
  readonly name: string;
  /** The dequantized weight's dtype. */
  readonly dtype: 'f32' | 'f16';
  readonly orientation: 'linear' | 'matmul';
  /** Outputs N and inputs K. */
  readonly n: number;
  readonly k: number;
  readonly bits: number;
  /** Inputs per scale (K or more: one group). */
  readonly group: number;
  /** The unsigned code of W[n][k], in 0 .. 2^bits - 1. */
  readonly code: (n: number, k: number) => number;
  readonly scaleDType: 'f16' | 'f32';
  readonly scale: (n: number, g: number) => number;
  /** The zero point of group g of output n: an integer code, or any number (then stored as f32). */
  readonly zero: (n: number, g: number) => number;
}

/** Declare the weight, its scales and zeros in b; returns the weight's name. */
export function declareQuantWeight(b: GraphBuilder, s: QuantWeightSpec): string {
  const { n, k, bits } = s;
  const groups = Math.ceil(k / s.group);
  const linear = s.orientation === 'linear';
  // Scales and zeros have the logical weight's shape with K cut into groups: [N, G] (linear) or [G, N] (matmul).
  const groupShape = linear ? [n, groups] : [groups, n];
  const at = (f: (n: number, g: number) => number) => (i: number) => (linear ? f(Math.floor(i / groups), i % groups) : f(i % n, Math.floor(i / n)));
  const zeros = Array.from({ length: n * groups }, (_, i) => at(s.zero)(i));
  const codeZeros = zeros.every((z) => Number.isInteger(z) && z >= 0 && z < 2 ** bits);
  const scales = b.declareConstant({ name: `${s.name}.scales`, type: tensorType(s.scaleDType, groupShape), value: makeTensor(s.scaleDType, groupShape, at(s.scale)) });
  const codeDType = `u${bits}` as DType;
  const zeroDType: DType = codeZeros ? codeDType : 'f32';
  const zeroName = b.declareConstant({ name: `${s.name}.zeros`, type: tensorType(zeroDType, groupShape), value: makeTensor(zeroDType, groupShape, zeros) });
  const encoding: Encoding = quantEncoding({
    bits,
    scheme: 'unsigned',
    group: Math.min(s.group, k),
    axis: linear ? 1 : 0,
    scale: s.scaleDType,
    zero: 'per-group',
    packing: 'packed',
    scales,
    zeros: zeroName,
  });
  const type = tensorType(s.dtype, linear ? [n, k] : [k, n], linear ? ROW_MAJOR : TRANSPOSED, encoding);
  const codes = makeTensor(codeDType, [n, k], (i) => s.code(Math.floor(i / k), i % k));
  return b.declareConstant({ name: s.name, type, value: codes });
}

/** Bits [pos, pos + bits) of a little-endian byte stream (LSB first), as an unsigned integer. */
export function readBits(bytes: ArrayLike<number>, pos: number, bits: number): number {
  let v = 0;
  for (let i = 0; i < bits; i++) {
    const p = pos + i;
    v |= ((bytes[p >> 3]! >> (p & 7)) & 1) << i;
  }
  return v >>> 0;
}
