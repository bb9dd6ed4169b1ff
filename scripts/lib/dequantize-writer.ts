// ONNX models whose weight is a constant int2/int4/int8 matrix behind DequantizeLinear (per-tensor, per-axis or
// blocked scales, with or without zero points), as quantized ONNX models carry weights: y = MatMul(x, dequant(W)),
// with the dequantized weight computed from the written codes for the test's float64 reference.
import { DT, attrInt, encodeModel, model, node, tensor, valueInfo } from './onnx-build.js';
import { writeBits } from './quant-writers.js';

export interface DqCase {
  readonly what: string;
  readonly dtype: 'INT4' | 'UINT4' | 'INT2' | 'UINT2' | 'INT8' | 'UINT8';
  readonly axis: number;
  /** 0: per axis (or per tensor with `perTensor`). */
  readonly block: number;
  readonly perTensor?: boolean;
  readonly zeros: boolean;
}

const BITS = { INT4: 4, UINT4: 4, INT2: 2, UINT2: 2, INT8: 8, UINT8: 8 } as const;
export const [K, N] = [96, 40];

/** The model y = MatMul(x, DequantizeLinear(W, scale, zp)) with W [K, N]; its codes, scales and zeros as written. */
export function dqModel(c: DqCase): { bytes: Uint8Array; deq: (k: number, n: number) => number } {
  const bits = BITS[c.dtype];
  const signed = c.dtype.startsWith('INT');
  const [lo, hi] = signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  const code = (i: number): number => lo + ((i * 7 + (i >> 3)) % (hi - lo + 1));
  const sShape = c.perTensor ? [] : c.block ? (c.axis === 0 ? [Math.ceil(K / c.block), N] : [K, Math.ceil(N / c.block)]) : [c.axis === 0 ? K : N];
  const sCount = sShape.reduce((a, b) => a * b, 1);
  const scale = (i: number): number => Math.fround(0.01 + (i % 13) * 0.003);
  const zero = (i: number): number => (c.zeros ? lo + ((i * 5) % (hi - lo + 1)) : 0);
  const sIndex = (k: number, n: number): number => (c.perTensor ? 0 : c.block ? (c.axis === 0 ? Math.floor(k / c.block) * N + n : k * Math.ceil(N / c.block) + Math.floor(n / c.block)) : c.axis === 0 ? k : n);
  const packed = (count: number, v: (i: number) => number): Uint8Array => {
    const out = new Uint8Array(Math.ceil((count * bits) / 8));
    for (let i = 0; i < count; i++) writeBits(out, i * bits, bits, v(i) & (2 ** bits - 1));
    return out;
  };
  const init = [
    tensor('W', DT[c.dtype], [K, N], { raw_data: packed(K * N, code) }),
    tensor('scale', DT.FLOAT, sShape, { float_data: Array.from({ length: sCount }, (_, i) => scale(i)) }),
    ...(c.zeros ? [tensor('zp', DT[c.dtype], sShape, { raw_data: packed(sCount, zero) })] : []),
  ];
  const attrs = { axis: attrInt(c.axis), ...(c.block ? { block_size: attrInt(c.block) } : {}) };
  const bytes = encodeModel(
    model({
      opset: 25,
      nodes: [node('DequantizeLinear', ['W', 'scale', ...(c.zeros ? ['zp'] : [])], ['w'], attrs, { name: 'dq' }), node('MatMul', ['x', 'w'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [3, K])],
      outputs: [valueInfo('y', DT.FLOAT, [3, N])],
      initializers: init,
    }),
  );
  return { bytes, deq: (k, n) => (code(k * N + n) - zero(sIndex(k, n))) * scale(sIndex(k, n)) };
}

export const DQ_CASES: readonly DqCase[] = [
  { what: 'int4 blocked along K (block 32), zero points', dtype: 'INT4', axis: 0, block: 32, zeros: true },
  { what: 'uint4 blocked along N (block 16), no zero points', dtype: 'UINT4', axis: 1, block: 16, zeros: false },
  { what: 'int2 blocked along K (block 64), zero points', dtype: 'INT2', axis: 0, block: 64, zeros: true },
  { what: 'uint2 per tensor', dtype: 'UINT2', axis: 1, block: 0, perTensor: true, zeros: true },
  { what: 'int8 per output channel (axis 1)', dtype: 'INT8', axis: 1, block: 0, zeros: false },
  { what: 'uint8 per input row (axis 0), zero points', dtype: 'UINT8', axis: 0, block: 0, zeros: true },
];

