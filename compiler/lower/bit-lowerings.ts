// Lowerings of QuantizeRows (two kernels: scales, then codes) and BitMatMul (ir/ops/bit-matmul.ts): 8-bit activations
// times 8/4/2-bit weights through the dot4I8Packed GEMV (kernels/bit-gemv.ts), 1-bit bipolar times 1-bit bipolar
// through the XOR GEMV (kernels/xor-gemv.ts); otherwise each operand's codes are cut into bit planes (bit-planes kernel,
// into scratch), then the bit-plane product (bit-matmul kernel) writes the i32 sums. A constant weight's planes
// are recomputed per run for now: one small dispatch next to the product.
import { dtypeInfo, isStaticShape, numel } from '../../ir/index.js';
import type { Node } from '../../ir/index.js';
import { type BitGemvSpec, bitGemv, bitGemvOps, bitGemvProblems } from '../kernels/bit-gemv.js';
import { type XorGemvSpec, xorGemv, xorGemvOps, xorGemvProblems } from '../kernels/xor-gemv.js';
import { type BitMatMulSpec, type BitPlanesSpec, bitMatMul, bitMatMulOps, bitPlanes, planeWords } from '../kernels/bit-matmul.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { type RowCodesSpec, type RowScalesSpec, rowCodes, rowScales } from '../kernels/quantize-rows.js';
import { rowCodeMax } from '../../ir/ops/quantize-rows.js';
import { type LoweringContext, LoweringError, type NodeLowering, type Step } from './lowering.js';

const spec1 = (node: Node, cx: LoweringContext, v: string): TensorSpec => {
  const t = cx.typeOf(v);
  if (!isStaticShape(t.shape)) throw new LoweringError(`BitMatMul %${node.outputs[0]}: %${v} has a symbolic shape [${t.shape.join(',')}]; the bit-plane kernels need static shapes`);
  return { dtype: t.dtype, shape: [...(t.shape as number[])] };
};

const digits = (dtype: string, bipolar: boolean): BitMatMulSpec['aDigits'] => (bipolar ? 'bipolar' : dtypeInfo(dtype as never).signed ? 'signed' : 'unsigned');

const lowerBitMatMul: NodeLowering = (node, cx) => {
  const [a, w] = node.inputs as [string, string];
  const y = node.outputs[0]!;
  const [as, ws, out] = [spec1(node, cx, a), spec1(node, cx, w), spec1(node, cx, y)];
  const [m, k] = ws.shape as [number, number];
  const rows = numel(as.shape) / k;
  if (numel(out.shape) === 0) return { kind: 'steps', steps: [] };
  const group = Number(node.attrs.group ?? 0) || k;
  const [aBits, wBits] = [dtypeInfo(as.dtype).bits, dtypeInfo(ws.dtype).bits];
  const fast = intGemv(node, cx, { a, w, y, as, ws, out, m, k, rows, group }) ?? bipolarGemv(node, cx, { a, w, y, as, ws, out, m, k, rows, group });
  if (fast) return fast;
  const planes = (name: string, codes: TensorSpec, n: number, bits: number): { step: Step; scratch: { scratch: string; bytes: number }; spec: TensorSpec } => {
    const words = n * bits * planeWords(k);
    const spec: TensorSpec = { dtype: 'u32', shape: [words] };
    const scratch = { scratch: name, bytes: words * 4 };
    const s: BitPlanesSpec = { kernel: 'bit-planes', target: { shaderF16: cx.target.shaderF16 }, codes, k, planes: spec };
    return { step: { kernel: cx.kernel(bitPlanes, s), args: [{ value: name === 'a-planes' ? a : w }, scratch], flops: n * k }, scratch, spec };
  };
  const pa = planes('a-planes', as, rows, aBits);
  const pw = planes('w-planes', ws, m, wBits);
  const spec: BitMatMulSpec = {
    kernel: 'bit-matmul',
    target: { shaderF16: cx.target.shaderF16 },
    rows,
    m,
    k,
    group,
    a: pa.spec,
    w: pw.spec,
    aBits,
    wBits,
    aDigits: digits(as.dtype, Number(node.attrs.a_bipolar ?? 0) !== 0),
    wDigits: digits(ws.dtype, Number(node.attrs.w_bipolar ?? 0) !== 0),
    out,
  };
  return { kind: 'steps', steps: [pa.step, pw.step, { kernel: cx.kernel(bitMatMul, spec), args: [pa.scratch, pw.scratch, { value: y }], flops: bitMatMulOps(spec) }] };
};

/**
 * The dot4I8Packed GEMV (kernels/bit-gemv.ts) where it applies: 8-bit two's-complement activations, 8/4/2-bit
 * two's-complement weights, K and the group whole steps of 16 bytes of weight codes. Exact like the bit-plane path,
 * one dispatch instead of three, and no planes rebuilt per run.
 */
function intGemv(
  node: Node,
  cx: Parameters<NodeLowering>[1],
  o: { a: string; w: string; y: string; as: TensorSpec; ws: TensorSpec; out: TensorSpec; m: number; k: number; rows: number; group: number },
): ReturnType<NodeLowering> | undefined {
  const wBits = dtypeInfo(o.ws.dtype).bits;
  if (o.as.dtype !== 'i8' || !['i8', 'i4', 'i2'].includes(o.ws.dtype) || Number(node.attrs.a_bipolar ?? 0) || Number(node.attrs.w_bipolar ?? 0)) return undefined;
  const fields = {
    rows: o.rows,
    m: o.m,
    k: o.k,
    group: o.group,
    wBits: wBits as 2 | 4 | 8,
    a: { dtype: 'u32' as const, shape: [(o.rows * o.k) / 4] },
    w: { dtype: 'u32' as const, shape: [(o.m * o.k * wBits) / 32] },
    out: o.out,
    perLane: Math.max(1, Math.min(4, Math.ceil(o.m / 64))),
  };
  if (bitGemvProblems(fields).length) return undefined;
  const spec: BitGemvSpec = { kernel: 'bit-gemv', target: { shaderF16: cx.target.shaderF16 }, ...fields };
  return { kind: 'steps', steps: [{ kernel: cx.kernel(bitGemv, spec), args: [{ value: o.a }, { value: o.w }, { value: o.y }], flops: bitGemvOps(spec) }] };
}

/**
 * The XOR GEMV (kernels/xor-gemv.ts) for 1-bit bipolar activations and weights (w1a1): one dispatch of XOR and
 * countOneBits over the packed words, K and the group whole steps of 128 codes.
 */
function bipolarGemv(node: Node, cx: Parameters<NodeLowering>[1], o: Parameters<typeof intGemv>[2]): ReturnType<NodeLowering> | undefined {
  if (o.as.dtype !== 'u1' || o.ws.dtype !== 'u1' || !Number(node.attrs.a_bipolar ?? 0) || !Number(node.attrs.w_bipolar ?? 0)) return undefined;
  const fields = {
    rows: o.rows,
    m: o.m,
    k: o.k,
    group: o.group,
    a: { dtype: 'u32' as const, shape: [(o.rows * o.k) / 32] },
    w: { dtype: 'u32' as const, shape: [(o.m * o.k) / 32] },
    out: o.out,
    perLane: Math.max(1, Math.min(4, Math.ceil(o.m / 64))),
  };
  if (xorGemvProblems(fields).length) return undefined;
  const spec: XorGemvSpec = { kernel: 'xor-gemv', target: { shaderF16: cx.target.shaderF16 }, ...fields };
  return { kind: 'steps', steps: [{ kernel: cx.kernel(xorGemv, spec), args: [{ value: o.a }, { value: o.w }, { value: o.y }], flops: xorGemvOps(spec) }] };
}

/** QuantizeRows: the rows' power-of-two scales, then the codes from them (ir/ops/quantize-rows.ts). */
const lowerQuantizeRows: NodeLowering = (node, cx) => {
  const x = node.inputs[0]!;
  const [codes, scales] = node.outputs as [string, string];
  const [xs, cs, ss] = [spec1(node, cx, x), spec1(node, cx, codes), spec1(node, cx, scales)];
  const k = xs.shape[xs.shape.length - 1]!;
  if (numel(xs.shape) === 0) return { kind: 'steps', steps: [] };
  const bits = Number(node.attrs.bits);
  const bipolar = Number(node.attrs.bipolar ?? 0) !== 0;
  const q = rowCodeMax(bits, bipolar);
  const target = { shaderF16: cx.target.shaderF16 };
  const a: RowScalesSpec = { kernel: 'row-scales', target, x: xs, scales: ss, k, q };
  const b: RowCodesSpec = { kernel: 'row-codes', target, x: xs, scales: ss, codes: cs, k, q, bipolar };
  return {
    kind: 'steps',
    steps: [
      { kernel: cx.kernel(rowScales, a), args: [{ value: x }, { value: scales }], flops: numel(xs.shape) },
      { kernel: cx.kernel(rowCodes, b), args: [{ value: x }, { value: scales }, { value: codes }], flops: numel(xs.shape) },
    ],
  };
};

export const BIT_LOWERINGS: Record<string, NodeLowering> = { BitMatMul: lowerBitMatMul, QuantizeRows: lowerQuantizeRows };
