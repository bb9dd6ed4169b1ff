// Lowerings of the reductions and normalisations: ReduceSum/Mean/Max/Min/Prod, ArgMax, GlobalAveragePool (a mean
// over the spatial axes), LpPool (the pool kernel), Softmax, LogSoftmax, LayerNormalization, BatchNormalization
// (inference), CumSum and CumProd.
// Attributes and shapes are read here and baked into the kernel specs. Outputs whose dtype is packed in storage
// (bf16, sub-byte ints, f16 without shader-f16) are computed into an unpacked scratch tensor (f32, i32 or u32)
// and packed by an elementwise Cast step.
import { type Node, type TensorType, dtypeInfo, isStaticShape, numel, tensorType } from '../../ir/index.js';
import { flagAttr, resolveAxes, resolveAxis } from '../../ir/ops/common.js';
import { batchNorm, batchNormSpec } from '../kernels/batch-norm.js';
import { cumSum, cumSumSpec } from '../kernels/cumsum.js';
import { elementwise, elementwiseSpec } from '../kernels/elementwise.js';
import { layerNorm, layerNormSpec } from '../kernels/layer-norm.js';
import { type TensorSpec, accDtype, symbolicTensor } from '../kernels/lib/index.js';
import { pool, poolSpec } from '../kernels/pool.js';
import { type ReduceOp, planReduce, reduce } from '../kernels/reduce.js';
import { softmax, softmaxSpec } from '../kernels/softmax.js';
import { storageLayout } from '../wgsl/accessor.js';
import type { DimContext } from '../wgsl/dims.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, type Step, attrsOf } from './lowering.js';

function tensorSpec(t: TensorType, value: string): TensorSpec {
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; this kernel needs static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

const inputSpec = (node: Node, cx: LoweringContext, i: number): TensorSpec => tensorSpec(cx.typeOf(node.inputs[i]!), node.inputs[i]!);


const scratchBytes = (t: TensorSpec): number => Math.max(4, numel(t.shape) * 4);

/**
 * The steps computing node output 0: `compute(out, arg)` writes it as `out` through `arg`. A packed output dtype
 * is computed into unpacked scratch (its compute dtype) and then packed by a Cast kernel.
 */
export function withOutput(node: Node, cx: LoweringContext, compute: (out: TensorSpec, arg: ArgRef) => Step[]): Lowering {
  const name = node.outputs[0]!;
  const out = tensorSpec(cx.typeOf(name), name);
  if (storageLayout(out.dtype, numel(out.shape), cx.target).lanes === 1) return { kind: 'steps', steps: compute(out, { value: name }) };
  const wide: TensorSpec = { dtype: accDtype(out.dtype), shape: out.shape };
  const scratch = { scratch: 'unpacked', bytes: scratchBytes(wide) };
  const cast: Node = { op: 'Cast', inputs: [scratch.scratch], outputs: [name], attrs: { to: out.dtype } };
  const spec = elementwiseSpec(cast, (v) => (v === scratch.scratch ? tensorType(wide.dtype, wide.shape) : cx.typeOf(v)), cx.target);
  const pack: Step = { kernel: cx.kernel(elementwise, spec), args: [scratch, { value: name }], flops: numel(out.shape) };
  return { kind: 'steps', steps: [...compute(wide, scratch), pack] };
}

/**
 * The program's symbols when one of the node's tensors has a symbolic dim (its kernel then reads sizes from the
 * dims uniform), else undefined. Symbolic tensors must be unpacked: a packed word's lanes cannot be split between
 * invocations by sizes known only at run time.
 */
function symbolicDims(node: Node, cx: LoweringContext): DimContext | undefined {
  const values = [...node.inputs, ...node.outputs].filter((v) => v !== '');
  if (!cx.dims || values.every((v) => isStaticShape(cx.typeOf(v).shape))) return undefined;
  for (const v of values) {
    const dtype = cx.typeOf(v).dtype;
    if (storageLayout(dtype, 1, cx.target).lanes > 1)
      throw new LoweringError(`%${v} is ${dtype}, packed several to a storage word${dtype === 'f16' ? ' on a target without shader-f16' : ''}, which a symbolic shape cannot split at run time; Cast it to f32 first`);
  }
  return cx.dims;
}

/** A value's spec: symbolic (shape at the upper bounds, dims from the graph) when `dims` is set, else static. */
const specOf = (node: Node, cx: LoweringContext, i: number, dims: DimContext | undefined): TensorSpec =>
  dims ? symbolicTensor(cx.typeOf(node.inputs[i]!), dims) : inputSpec(node, cx, i);

/** withOutput for a kernel with symbolic dims: the output is unpacked (symbolicDims), so written directly. */
function withSymbolicOutput(node: Node, cx: LoweringContext, dims: DimContext, compute: (out: TensorSpec, arg: ArgRef) => Step[]): Lowering {
  const name = node.outputs[0]!;
  return { kind: 'steps', steps: compute(symbolicTensor(cx.typeOf(name), dims), { value: name }) };
}

/** Work of a step over `t` for `kiln inspect`: symbolic shapes count at their upper bounds. */
const countOf = (t: TensorSpec): number => numel(t.shape);

/** A reduction of input 0 over `axes` (one kernel, or partial + combine through scratch for long rows). */
function reduceSteps(node: Node, cx: LoweringContext, op: ReduceOp, axes: readonly number[], selectLast = false): Lowering {
  const kind = dtypeInfo(cx.typeOf(node.inputs[0]!).dtype).kind;
  if (op === 'mean' && kind !== 'float')
    throw new LoweringError(`${node.op} of ${cx.typeOf(node.inputs[0]!).dtype} has no WebGPU kernel (an exact integer mean needs 64-bit sums); Cast the input to f32 first`);
  const dims = symbolicDims(node, cx);
  const input = specOf(node, cx, 0, dims);
  if (dims)
    return withSymbolicOutput(node, cx, dims, (output, arg) => {
      const spec = planReduce({ target: cx.target, op, selectLast, input, axes, output, dims })[0]!;
      return [{ kernel: cx.kernel(reduce, spec), args: [{ dims: true }, { value: node.inputs[0]! }, arg], flops: countOf(input) }];
    });
  return withOutput(node, cx, (output, arg) => {
    const specs = planReduce({ target: cx.target, op, selectLast, input, axes, output });
    const argmax = op === 'argmax' || op === 'argmin';
    const first = { value: node.inputs[0]! };
    if (specs.length === 1) return [{ kernel: cx.kernel(reduce, specs[0]!), args: [first, arg], flops: numel(input.shape) }];
    const [partial, combine] = specs as [(typeof specs)[0], (typeof specs)[0]];
    const part = { scratch: 'partials', bytes: scratchBytes(partial.output) };
    const partIndex = { scratch: 'partial-indices', bytes: scratchBytes(partial.output) };
    return [
      { kernel: cx.kernel(reduce, partial), args: [first, part, ...(argmax ? [partIndex] : [])], flops: numel(input.shape) },
      { kernel: cx.kernel(reduce, combine), args: [part, ...(argmax ? [partIndex] : []), arg], flops: numel(partial.output.shape) },
    ];
  });
}

/** The reduced axes of a Reduce* node, or undefined for the identity (empty axes with noop_with_empty_axes). */
function reduceAxes(node: Node, rank: number): number[] | undefined {
  const a = attrsOf(node);
  const axes = a.optInts('axes') ?? [];
  if (axes.length > 0) return resolveAxes(node.op, axes, rank);
  return flagAttr(node.op, a, 'noop_with_empty_axes') ? undefined : Array.from({ length: rank }, (_, i) => i);
}

const lowerReduce =
  (op: ReduceOp): NodeLowering =>
  (node, cx) => {
    const axes = reduceAxes(node, cx.typeOf(node.inputs[0]!).shape.length);
    if (!axes) return { kind: 'alias', of: node.inputs[0]! };
    return reduceSteps(node, cx, op, axes);
  };

const lowerArgReduce =
  (op: 'argmax' | 'argmin'): NodeLowering =>
  (node, cx) => {
    const a = attrsOf(node);
    const axis = resolveAxis(node.op, a.int('axis'), cx.typeOf(node.inputs[0]!).shape.length);
    return reduceSteps(node, cx, op, [axis], flagAttr(node.op, a, 'select_last_index'));
  };

const lowerGlobalAveragePool: NodeLowering = (node, cx) => {
  const rank = cx.typeOf(node.inputs[0]!).shape.length;
  return reduceSteps(node, cx, 'mean', Array.from({ length: rank - 2 }, (_, i) => i + 2));
};

/** LpPool: the pool kernel (shared with MaxPool and AveragePool) in its Lp mode. */
const lowerLpPool: NodeLowering = (node, cx) => {
  const spec = poolSpec(node, cx.typeOf, cx.target, 64, cx.dims);
  const outputs = numel(spec.output.shape);
  if (outputs === 0) return { kind: 'steps', steps: [] };
  const flops = outputs * numel(spec.kernelShape) * 2;
  return { kind: 'steps', steps: [{ kernel: cx.kernel(pool, spec), args: [...(spec.dims ? [{ dims: true } as const] : []), { value: node.inputs[0]! }, { value: node.outputs[0]! }], flops }] };
};

const lowerSoftmax =
  (log: boolean): NodeLowering =>
  (node, cx) => {
    const dims = symbolicDims(node, cx);
    const input = specOf(node, cx, 0, dims);
    const axis = resolveAxis(node.op, attrsOf(node).int('axis'), input.shape.length);
    const compute = (output: TensorSpec, arg: ArgRef): Step[] => {
      const spec = softmaxSpec(cx.target, log, input, axis, output, dims);
      return [{ kernel: cx.kernel(softmax, spec), args: [...(dims ? [{ dims: true } as const] : []), { value: node.inputs[0]! }, arg], flops: 3 * countOf(input) }];
    };
    return dims ? withSymbolicOutput(node, cx, dims, compute) : withOutput(node, cx, compute);
  };

const lowerLayerNorm: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const dims = symbolicDims(node, cx);
  const input = specOf(node, cx, 0, dims);
  const axis = resolveAxis(node.op, a.int('axis'), input.shape.length);
  const normalised = (input.dims ?? input.shape).slice(axis);
  if (!isStaticShape(normalised))
    throw new LoweringError(`LayerNormalization over symbolic axes [${normalised.join(',')}] has no kernel (only the leading axes may be symbolic); specialise those dims`);
  const hasBias = node.inputs.length > 2 && node.inputs[2] !== '';
  const bias = hasBias ? specOf(node, cx, 2, dims) : undefined;
  const compute = (output: TensorSpec, arg: ArgRef): Step[] => {
    const spec = layerNormSpec(cx.target, input, specOf(node, cx, 1, dims), bias, output, axis, a.float('epsilon'), dims);
    const args = [node.inputs[0]!, node.inputs[1]!, ...(hasBias ? [node.inputs[2]!] : [])].map((value) => ({ value }));
    return [{ kernel: cx.kernel(layerNorm, spec), args: [...(dims ? [{ dims: true } as const] : []), ...args, arg], flops: 3 * countOf(input) }];
  };
  return dims ? withSymbolicOutput(node, cx, dims, compute) : withOutput(node, cx, compute);
};

const lowerBatchNorm: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  if (flagAttr(node.op, a, 'training_mode')) throw new LoweringError('training-mode BatchNormalization has no kernel; export the model in eval mode');
  const dims = symbolicDims(node, cx);
  const input = specOf(node, cx, 0, dims);
  const compute = (output: TensorSpec, arg: ArgRef): Step[] => {
    const spec = batchNormSpec(cx.target, input, specOf(node, cx, 1, dims), output, a.float('epsilon'), dims);
    return [{ kernel: cx.kernel(batchNorm, spec), args: [...(dims ? [{ dims: true } as const] : []), ...node.inputs.map((value) => ({ value })), arg], flops: countOf(input) }];
  };
  return dims ? withSymbolicOutput(node, cx, dims, compute) : withOutput(node, cx, compute);
};

const lowerCumSum: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const dims = symbolicDims(node, cx);
  const input = specOf(node, cx, 0, dims);
  const axis = resolveAxis(node.op, a.int('axis'), input.shape.length);
  const compute = (output: TensorSpec, arg: ArgRef): Step[] => {
    const op = node.op === 'CumProd' ? 'prod' : 'sum';
    const spec = cumSumSpec(cx.target, op, input, axis, output, flagAttr(node.op, a, 'exclusive'), flagAttr(node.op, a, 'reverse'), dims);
    return [{ kernel: cx.kernel(cumSum, spec), args: [...(dims ? [{ dims: true } as const] : []), { value: node.inputs[0]! }, arg], flops: countOf(input) }];
  };
  return dims ? withSymbolicOutput(node, cx, dims, compute) : withOutput(node, cx, compute);
};

export const REDUCE_LOWERINGS: Record<string, NodeLowering> = {
  ReduceSum: lowerReduce('sum'),
  ReduceMean: lowerReduce('mean'),
  ReduceMax: lowerReduce('max'),
  ReduceMin: lowerReduce('min'),
  ReduceProd: lowerReduce('prod'),
  ArgMax: lowerArgReduce('argmax'),
  ArgMin: lowerArgReduce('argmin'),
  GlobalAveragePool: lowerGlobalAveragePool,
  LpPool: lowerLpPool,
  Softmax: lowerSoftmax(false),
  LogSoftmax: lowerSoftmax(true),
  LayerNormalization: lowerLayerNorm,
  BatchNormalization: lowerBatchNorm,
  CumSum: lowerCumSum,
  CumProd: lowerCumSum,
};
