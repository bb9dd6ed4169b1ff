// Lowerings of QuantizeRows (two kernels: scales, then codes) and BitMatMul (ir/ops/bit-matmul.ts): 8-bit activations
// times 8/4/2-bit weights through the dot4I8Packed GEMV (kernels/bit-gemv.ts), 1-bit bipolar times 1-bit bipolar
// through the XOR GEMV (kernels/xor-gemv.ts), those two with bitpack's float scaling chain fused in where the
// scheduler planned it (fuse-bit-scaling.ts); otherwise each operand's codes are cut into bit planes (bit-planes kernel,
// into scratch), then the bit-plane product (bit-matmul kernel) writes the i32 sums. A constant weight's planes
// are recomputed per run for now: one small dispatch next to the product.
import { dtypeInfo, isStaticShape, numel } from '../../ir/index.js';
import type { Node, TensorType } from '../../ir/index.js';
import { type BitGemvSpec, bitGemv, bitGemvOps, bitGemvProblems } from '../kernels/bit-gemv.js';
import { type XorGemvSpec, xorGemv, xorGemvOps, xorGemvProblems } from '../kernels/xor-gemv.js';
import { type BitMatMulSpec, type BitPlanesSpec, bitMatMul, bitMatMulOps, bitPlanes, planeWords } from '../kernels/bit-matmul.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import type { IntGemvScaling } from '../kernels/lib/int-gemv.js';
import { type RowCodesSpec, type RowQuantizeSpec, type RowScalesSpec, rowCodes, rowQuantize, rowScales, rowWordsWhole } from '../kernels/quantize-rows.js';
import { rowCodeMax } from '../../ir/ops/quantize-rows.js';
import { type ArgRef, type LoweringContext, LoweringError, type NodeLowering, type Step } from './lowering.js';

const spec1 = (node: Node, cx: LoweringContext, v: string): TensorSpec => {
  const t = cx.typeOf(v);
  if (!isStaticShape(t.shape)) throw new LoweringError(`BitMatMul %${node.outputs[0]}: %${v} has a symbolic shape [${t.shape.join(',')}]; the bit-plane kernels need static shapes`);
  return spec1Of(cx, v);
};
const spec1Of = (cx: LoweringContext, v: string): TensorSpec => ({ dtype: cx.typeOf(v).dtype, shape: [...(cx.typeOf(v).shape as number[])] });
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
  const fast = fastGemvOf(node, cx.typeOf);
  if (fast) return lowerFastGemv(fast, cx, a, w, y);
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

type GemvFields<S> = Omit<S, 'kernel' | 'target' | 'scaling'>;
/** An integer GEMV that computes a BitMatMul in one dispatch, with no bit planes rebuilt per run. */
export type FastGemv = { readonly kernel: 'bit-gemv'; readonly fields: GemvFields<BitGemvSpec> } | { readonly kernel: 'xor-gemv'; readonly fields: GemvFields<XorGemvSpec> };

/**
 * The integer GEMV for a BitMatMul, where one applies (static shapes; K and the group whole 16-byte steps of
 * weight codes): the dot4I8Packed GEMV (kernels/bit-gemv.ts) for 8-bit two's-complement activations x 8/4/2-bit
 * two's-complement weights; the XOR GEMV (kernels/xor-gemv.ts) for 1-bit bipolar x 1-bit bipolar (w1a1).
 * The epilogue planner asks too: only these kernels take the scaling chain (fuse-bit-scaling.ts).
 */
export function fastGemvOf(node: Node, typeOf: (v: string) => TensorType): FastGemv | undefined {
  const [as, ws, out] = [typeOf(node.inputs[0]!), typeOf(node.inputs[1]!), typeOf(node.outputs[0]!)];
  if (![as, ws, out].every((t) => isStaticShape(t.shape)) || ws.shape.length !== 2) return undefined;
  const [m, k] = ws.shape as [number, number];
  const rows = numel(as.shape as number[]) / k;
  const group = Number(node.attrs.group ?? 0) || k;
  const [aBipolar, wBipolar] = [Number(node.attrs.a_bipolar ?? 0) !== 0, Number(node.attrs.w_bipolar ?? 0) !== 0];
  const perLane = Math.max(1, Math.min(4, Math.ceil(m / 64)));
  const o = { dtype: out.dtype, shape: [...(out.shape as number[])] };
  if (as.dtype === 'i8' && ['i8', 'i4', 'i2'].includes(ws.dtype) && !aBipolar && !wBipolar) {
    const wBits = dtypeInfo(ws.dtype).bits as 2 | 4 | 8;
    const fields = { rows, m, k, group, wBits, a: { dtype: 'u32' as const, shape: [(rows * k) / 4] }, w: { dtype: 'u32' as const, shape: [(m * k * wBits) / 32] }, out: o, perLane };
    return bitGemvProblems(fields).length ? undefined : { kernel: 'bit-gemv', fields };
  }
  if (as.dtype === 'u1' && ws.dtype === 'u1' && aBipolar && wBipolar) {
    const fields = { rows, m, k, group, a: { dtype: 'u32' as const, shape: [(rows * k) / 32] }, w: { dtype: 'u32' as const, shape: [(m * k) / 32] }, out: o, perLane };
    return xorGemvProblems(fields).length ? undefined : { kernel: 'xor-gemv', fields };
  }
  return undefined;
}

/** The GEMV's step; with a planned scaling chain (and epilogue) it writes the chain's f32 result instead of the sums. */
function lowerFastGemv(fast: FastGemv, cx: LoweringContext, a: string, w: string, y: string): ReturnType<NodeLowering> {
  const e = cx.epilogue;
  const scaling: IntGemvScaling | undefined = e?.bitScaling && {
    scales: spec1Of(cx, e.bitScaling.scales),
    rowScales: spec1Of(cx, e.bitScaling.rowScales),
    ...(e.ops.length ? { epilogue: e.ops } : {}),
  };
  const extra = e?.bitScaling ? { out: spec1Of(cx, e.output), scaling } : {};
  const args: ArgRef[] = [{ value: a }, { value: w }, ...(e?.bitScaling ? [e.bitScaling.scales, e.bitScaling.rowScales, ...e.operands].map((value) => ({ value })) : []), { value: e?.bitScaling ? e.output : y }];
  const target = { shaderF16: cx.target.shaderF16, ...(cx.target.subgroups ? { subgroups: true } : {}) };
  if (fast.kernel === 'bit-gemv') {
    const spec: BitGemvSpec = { kernel: 'bit-gemv', target, ...fast.fields, ...extra };
    return { kind: 'steps', steps: [{ kernel: cx.kernel(bitGemv, spec), args, flops: bitGemvOps(spec) }] };
  }
  const spec: XorGemvSpec = { kernel: 'xor-gemv', target, ...fast.fields, ...extra };
  return { kind: 'steps', steps: [{ kernel: cx.kernel(xorGemv, spec), args, flops: xorGemvOps(spec) }] };
}

/** QuantizeRows (ir/ops/quantize-rows.ts): one kernel where rows fill whole code words; else the scales, then the codes. */
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
  if (rowWordsWhole(k, bits)) {
    const one: RowQuantizeSpec = { kernel: 'row-quantize', target, x: xs, scales: ss, codes: cs, k, q, bipolar };
    return { kind: 'steps', steps: [{ kernel: cx.kernel(rowQuantize, one), args: [{ value: x }, { value: scales }, { value: codes }], flops: 2 * numel(xs.shape) }] };
  }
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
