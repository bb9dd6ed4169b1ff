// Lowering of a MatMul or Gemm whose weight is a quant-encoded constant read in place (passes/bits/quant-in-place.ts
// decides which; materialize-encodings has decoded the weight for every other reader): the quant GEMV kernel over
// the stored codes, their scales and zero points. Activation rows come in blocks of up to 4 per workgroup, so a
// prefill re-reads each weight once per block (the codes are small; a tiled quant GEMM is the next kernel).
import { type Node, isStaticShape, numel } from '../../ir/index.js';
import { quantGatherReadable, quantGemvUse } from '../../passes/index.js';
import { type QuantGatherSpec, quantGather } from '../kernels/quant-gather.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { codesPerWord } from '../../ir/dtype.js';
import { type QuantGemvSpec, quantGemv, quantGemvFlops, quantGemvProblems } from '../kernels/quant-gemv.js';
import type { ArrangedIo } from './arranged-gemv-lowering.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError } from './lowering.js';

/**
 * Output rows per lane, and which form of the kernel. With K as vector components (16 bytes of one row per load),
 * bench:bits w4f16 4096 x 4096, N = 1, lavapipe, one run each: 2 rows 7.3 ms, 4 rows 5.8-6.6, 8 rows 7.2-7.4; what
 * bounds it is the step's eight activation vec4s (replacing them by arithmetic ran 3.0 ms) and register pressure
 * (each vec4 is four of AVX2's 16 registers); staging the activation in workgroup memory (two barriers per group)
 * ran 9.2 ms. With rows as components (timestamp queries, same shape): w4 4.65 ms against 5.5, w2 3.8 against
 * 8.1, but w8 9.8 against 5.6 (four codes per scalar load): rows for codes of up to 4 bits; 8 rows 4.8 / 3.3 ms.
 */
const PER_LANE = 4;

export function quantGemvLowering(node: Node, cx: LoweringContext, io: ArrangedIo): Lowering | undefined {
  const wt = cx.typeOf(io.graphWeight);
  if (wt.encoding.kind !== 'quant') return undefined;
  const use = quantGemvUse(node, io.graphWeight, (v) => cx.typeOf(v));
  if (!use) throw new LoweringError(`${node.op} %${node.outputs[0]}: weight %${io.graphWeight} is quant-encoded but the quant GEMV cannot read it in place; run materialize-encodings`);
  const spec1 = (v: string): TensorSpec => {
    const t = cx.typeOf(v);
    if (!isStaticShape(t.shape)) throw new LoweringError(`${node.op} %${node.outputs[0]}: %${v} has a symbolic shape`);
    return { dtype: t.dtype, shape: [...(t.shape as number[])] };
  };
  const out = spec1(io.output);
  if (numel(out.shape) === 0) return { kind: 'steps', steps: [] };
  const x = spec1(io.x);
  const rows = numel(x.shape) / use.k;
  // The quad layout pads M to whole blocks of 4 rows.
  const words = ((use.arranged ? Math.ceil(use.m / 4) * 4 : use.m) * use.k) / codesPerWord(use.bits);
  const perLane = use.arranged ? PER_LANE : Math.max(1, Math.min(PER_LANE, Math.ceil(use.m / 64)));
  const fields: Omit<QuantGemvSpec, 'kernel' | 'target'> = {
    rows,
    m: use.m,
    k: use.k,
    bits: use.bits,
    signed: use.signed,
    group: use.group,
    scaleOrder: use.scaleOrder,
    x,
    w: { dtype: 'u32', shape: [words] },
    scales: spec1(use.scales),
    ...(use.zeros ? { zeros: spec1(use.zeros) } : {}),
    out,
    alpha: io.alpha ?? 1,
    ...(io.c ? { c: { ...spec1(io.c), beta: io.beta ?? 1 } } : {}),
    ...(io.epilogue?.length ? { epilogue: io.epilogue } : {}),
    perLane,
    tokens: Math.min(rows, 4),
    words: use.words,
    ...(use.arranged ? { arranged: use.arranged } : {}),
    // The quad layout is read with rows as components whatever M (arrange-layout chose it for this kernel).
    byRows: use.bits <= 4 && codesPerWord(use.bits) % 4 === 0 && (perLane === PER_LANE || !!use.arranged) && x.dtype === 'f32',
  };
  const bad = quantGemvProblems(fields);
  if (bad.length) throw new LoweringError(`${node.op} %${node.outputs[0]}: the quant GEMV cannot take it (${bad.join('; ')})`);
  const spec: QuantGemvSpec = { kernel: 'quant-gemv', target: { shaderF16: cx.target.shaderF16, ...(cx.target.subgroups ? { subgroups: true } : {}) }, ...fields };
  const args: ArgRef[] = [
    { value: io.x },
    { value: io.graphWeight },
    { value: use.scales },
    ...(use.zeros ? [{ value: use.zeros }] : []),
    ...(io.c ? [{ value: io.c }] : []),
    ...io.operands,
    { value: io.output },
  ];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(quantGemv, spec), args, flops: quantGemvFlops(spec) }] };
}

/** A Gather along axis 0 of a quant-encoded table (passes/bits/quant-in-place.ts quantGatherReadable): the quant gather. */
export function quantGatherLowering(node: Node, cx: LoweringContext): Lowering | undefined {
  const table = node.inputs[0]!;
  const t = cx.typeOf(table);
  if (t.encoding.kind !== 'quant') return undefined;
  if (!quantGatherReadable(node, table, (v) => cx.typeOf(v))) throw new LoweringError(`Gather %${node.outputs[0]}: table %${table} is quant-encoded but the quant gather cannot read it in place; run materialize-encodings`);
  const q = t.encoding.params;
  const [rows, cols] = t.shape as [number, number];
  // A blocked table is in the quad layout (quantGatherReadable admits no other).
  const quad = t.layout.kind === 'blocked';
  const spec1 = (v: string): TensorSpec => {
    const ty = cx.typeOf(v);
    if (!isStaticShape(ty.shape)) throw new LoweringError(`Gather %${node.outputs[0]}: %${v} has a symbolic shape`);
    return { dtype: ty.dtype, shape: [...(ty.shape as number[])] };
  };
  const out = spec1(node.outputs[0]!);
  if (numel(out.shape) === 0) return { kind: 'steps', steps: [] };
  const spec: QuantGatherSpec = {
    kernel: 'quant-gather',
    target: { shaderF16: cx.target.shaderF16 },
    rows,
    cols,
    bits: q.bits,
    signed: q.scheme === 'signed',
    group: Math.min(q.group, cols),
    w: { dtype: 'u32', shape: [quad ? (Math.ceil(rows / 4) * 4 * cols) / codesPerWord(q.bits) : Math.ceil((rows * cols) / codesPerWord(q.bits))] },
    ...(quad ? { quad } : {}),
    scales: spec1(q.scales),
    ...(q.zeros !== undefined ? { zeros: spec1(q.zeros) } : {}),
    ids: spec1(node.inputs[1]!),
    out,
  };
  const args: ArgRef[] = [{ value: table }, { value: q.scales }, ...(q.zeros !== undefined ? [{ value: q.zeros }] : []), { value: node.inputs[1]! }, { value: node.outputs[0]! }];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(quantGather, spec), args, flops: numel(out.shape) }] };
}
