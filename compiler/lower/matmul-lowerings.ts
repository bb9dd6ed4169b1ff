// Lowerings of the contraction ops: MatMul, Gemm and MatMulInteger to one matmul kernel each; Conv and
// ConvTranspose to an implicit-GEMM (or direct) convolution kernel; Einsum to a strided batched matmul where the
// equation is a plain contraction, else to a generic reduction kernel. Binding order is the generators': the
// node's inputs in kernel order, then the output (epilogue operands, when a fusion pass adds them, come between).
// MatMul, Gemm and Conv also take symbolic shapes: their kernels then bind the dims uniform first.
import { type Dim, type Node, type TensorType, isStaticShape } from '../../ir/index.js';
import { conv, convFlops, convSpec } from '../kernels/conv.js';
import { convTransposeSpec } from '../kernels/conv-transpose.js';
import { einsumLowering } from '../kernels/einsum.js';
import { type TensorSpec, symbolicTensor } from '../kernels/lib/index.js';
import type { Epilogue } from '../kernels/matmul-epilogue.js';
import { type MatMulOperands, type MatMulSpec, matMulFlops, matMulSpec, matmul, symbolicMatMulSpec } from '../kernels/matmul.js';
import type { DimContext } from '../wgsl/dims.js';
import { type ArgRef, type Lowering, LoweringError, type LoweringContext, type NodeLowering, attrsOf } from './lowering.js';
import { sparseMatMulSteps } from './sparse-lowerings.js';
import { arrangedConvLowering, arrangedGemvLowering } from './arranged-gemv-lowering.js';
import { quantGemvLowering } from './quant-lowering.js';
import { readsInPlace } from '../../passes/index.js';

/** The static type of a value as a kernel tensor spec (MatMulInteger and Einsum take only these). */
export function tensorSpec(cx: LoweringContext, value: string): TensorSpec {
  const t: TensorType = cx.typeOf(value);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; MatMulInteger and Einsum kernels need static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

const present = (v: string | undefined): v is string => v !== undefined && v !== '';
const values = (...vs: (string | undefined)[]): ArgRef[] => vs.filter(present).map((value) => ({ value }));


function matMulStep(cx: LoweringContext, spec: MatMulSpec<Dim>, args: ArgRef[]): Lowering {
  const dims: ArgRef[] = spec.dims ? [{ dims: true }] : [];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(matmul, spec), args: [...dims, ...args], flops: matMulFlops(spec) }] };
}

/** The symbols when any of `vs` has a symbolic shape (its kernel then sizes itself from the dims uniform). */
function symbolicOf(cx: LoweringContext, vs: readonly (string | undefined)[]): DimContext | undefined {
  return cx.dims && vs.some((v) => present(v) && !isStaticShape(cx.typeOf(v).shape)) ? cx.dims : undefined;
}

/** The fused epilogue's spec fields and bindings, when the scheduler planned one for this node. */
function epilogueOf(cx: LoweringContext, y: string): { output: string; spec: { epilogue?: Epilogue }; operands: ArgRef[] } {
  const e = cx.epilogue;
  if (!e) return { output: y, spec: {}, operands: [] };
  return { output: e.output, spec: { epilogue: e.ops }, operands: e.operands.map((value) => ({ value })) };
}

/** An epilogue whose operands are re-read as symbolic specs (in binding order: op by op, operand by operand). */
function symbolicEpilogue(cx: LoweringContext, dims: DimContext, e: Epilogue | undefined): { epilogue?: Epilogue } {
  if (!e) return {};
  const values = [...(cx.epilogue?.operands ?? [])];
  return { epilogue: e.map((op) => ({ ...op, operands: op.operands.map(() => symbolicTensor(cx.typeOf(values.shift()!), dims)) })) };
}

/** The spec of a MatMul or Gemm: static, or over symbolic shapes when any operand or the result has them. */
function productSpec(cx: LoweringContext, o: Omit<MatMulOperands, 'a' | 'b' | 'out' | 'c'>, io: { a: string; b: string; out: string; c?: string; beta?: number }): MatMulSpec<Dim> {
  const dims = symbolicOf(cx, [io.a, io.b, io.out, io.c, ...(cx.epilogue?.operands ?? [])]);
  const spec = (v: string): TensorSpec => (dims ? symbolicTensor(cx.typeOf(v), dims) : tensorSpec(cx, v));
  const operands: MatMulOperands = {
    ...o,
    a: spec(io.a),
    b: spec(io.b),
    out: spec(io.out),
    ...(present(io.c) ? { c: { ...spec(io.c), beta: io.beta ?? 1 } } : {}),
    ...(dims ? symbolicEpilogue(cx, dims, o.epilogue) : {}),
  };
  return dims ? symbolicMatMulSpec(cx.target, operands, dims) : matMulSpec(cx.target, operands);
}

/** The value a matmul operand binds: the operand, or the narrow tensor of a fused widening cast. */
const operand = (cx: LoweringContext, v: string): string => cx.operandSources?.get(v) ?? v;

/** The sparse kernels' steps when the weight is a Tiled-CSL constant (the only encoding a matmul reads in place). */
function sparseWeight(node: Node, cx: LoweringContext): Lowering | undefined {
  const w = node.inputs[1];
  if (w === undefined || cx.typeOf(w).encoding.kind !== 'tiled-csl') return undefined;
  if (!readsInPlace((v) => cx.typeOf(v), node, w))
    throw new LoweringError(`%${w} is Tiled-CSL but this ${node.op} cannot read it in place (the stored matrix must be A[M,K], no Gemm scaling, a per-column bias); run materialize-encodings`);
  const stored = cx.storage(w);
  if (!stored) throw new LoweringError(`%${w} is Tiled-CSL but has no data`);
  return { kind: 'steps', steps: sparseMatMulSteps(cx, node, stored) };
}

const lowerMatMul: NodeLowering = (node, cx) => {
  const sparse = sparseWeight(node, cx);
  if (sparse) return sparse;
  const [a, b] = (node.inputs as [string, string]).map((v) => operand(cx, v)) as [string, string];
  const epi = epilogueOf(cx, node.outputs[0]!);
  const io = { x: a, w: b, graphWeight: node.inputs[1]!, output: epi.output, operands: epi.operands, ...epi.spec };
  const arranged = quantGemvLowering(node, cx, io) ?? arrangedGemvLowering(node, cx, io);
  if (arranged) return arranged;
  const spec = productSpec(cx, epi.spec, { a, b, out: epi.output });
  return matMulStep(cx, spec, [...values(a, b), ...epi.operands, ...values(epi.output)]);
};

const lowerGemm: NodeLowering = (node, cx) => {
  const sparse = sparseWeight(node, cx);
  if (sparse) return sparse;
  const [a0, b0, c] = node.inputs as [string, string, string | undefined];
  const a = operand(cx, a0);
  const b = operand(cx, b0);
  const epi = epilogueOf(cx, node.outputs[0]!);
  const at = attrsOf(node);
  const io = { x: a, w: b, graphWeight: b0, output: epi.output, operands: epi.operands, alpha: at.float('alpha'), ...(present(c) ? { c, beta: at.float('beta') } : {}) };
  const arranged = quantGemvLowering(node, cx, { ...io, ...epi.spec }) ?? arrangedGemvLowering(node, cx, { ...io, ...epi.spec });
  if (arranged) return arranged;
  const spec = productSpec(
    cx,
    { ...epi.spec, transA: at.int('transA') !== 0, transB: at.int('transB') !== 0, alpha: at.float('alpha') },
    { a, b, out: epi.output, ...(present(c) ? { c, beta: at.float('beta') } : {}) },
  );
  return matMulStep(cx, spec, [...values(a, b, c), ...epi.operands, ...values(epi.output)]);
};

/**
 * How a MatMulInteger zero point broadcasts onto its operand: a 1-D zero point that is not [1] has one entry per
 * row of A (read as [M, 1]) or per column of B; any other shape broadcasts as it is (ONNX's rules).
 */
export function zeroPointView(which: 'a' | 'b', zp: readonly number[], operand: readonly number[]): number[] {
  if (zp.length !== 1 || zp[0] === 1) return [...zp];
  return which === 'a' && operand.length > 1 ? [zp[0]!, 1] : [zp[0]!];
}

const lowerMatMulInteger: NodeLowering = (node, cx) => {
  const [a, b, az, bz] = node.inputs as [string, string, string | undefined, string | undefined];
  const y = node.outputs[0]!;
  const A = tensorSpec(cx, a);
  const B = tensorSpec(cx, b);
  const zero = (which: 'a' | 'b', v: string, of: TensorSpec) => {
    const t = tensorSpec(cx, v);
    return { ...t, view: zeroPointView(which, t.shape, of.shape) };
  };
  const spec = matMulSpec(cx.target, {
    a: A,
    b: B,
    out: tensorSpec(cx, y),
    ...(present(az) ? { aZero: zero('a', az, A) } : {}),
    ...(present(bz) ? { bZero: zero('b', bz, B) } : {}),
  });
  return matMulStep(cx, spec, values(a, b, az, bz, y));
};

const lowerConv =
  (transpose: boolean): NodeLowering =>
  (node, cx) => {
    const [x, w, bias] = node.inputs as [string, string, string | undefined];
    const epi = epilogueOf(cx, node.outputs[0]!);
    const dims = symbolicOf(cx, [x, w, bias, epi.output, ...(cx.epilogue?.operands ?? [])]);
    const spec1 = (v: string): TensorSpec => (dims ? symbolicTensor(cx.typeOf(v), dims) : tensorSpec(cx, v));
    const io = { ...(dims ? { dims } : {}), x: spec1(x), w: spec1(w), out: spec1(epi.output), ...(present(bias) ? { bias: spec1(bias) } : {}) };
    const extra = dims ? symbolicEpilogue(cx, dims, epi.spec.epilogue) : epi.spec;
    const spec = transpose ? convTransposeSpec(cx.target, io, attrsOf(node), extra) : convSpec(cx.target, io, attrsOf(node), extra);
    const args: ArgRef[] = [...(dims ? [{ dims: true } as const] : []), ...values(x, w, bias), ...epi.operands, ...values(epi.output)];
    const arranged = transpose ? undefined : arrangedConvLowering(node, cx, spec, args);
    if (arranged) return arranged;
    return { kind: 'steps', steps: [{ kernel: cx.kernel(conv, spec), args, flops: convFlops(spec) }] };
  };

const lowerEinsum: NodeLowering = (node, cx) => {
  const equation = attrsOf(node).string('equation');
  const y = node.outputs[0]!;
  const lowered = einsumLowering(cx.target, equation, node.inputs.map((v) => tensorSpec(cx, v)), tensorSpec(cx, y));
  const kernel = lowered.kind === 'matmul' ? cx.kernel(matmul, lowered.spec) : cx.kernel(lowered.gen, lowered.spec);
  return { kind: 'steps', steps: [{ kernel, args: values(...node.inputs, y), flops: lowered.flops }] };
};

export const MATMUL_LOWERINGS: Record<string, NodeLowering> = {
  MatMul: lowerMatMul,
  Gemm: lowerGemm,
  MatMulInteger: lowerMatMulInteger,
  Conv: lowerConv(false),
  ConvTranspose: lowerConv(true),
  Einsum: lowerEinsum,
};
