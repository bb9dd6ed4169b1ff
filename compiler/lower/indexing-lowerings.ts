// Lowerings of the indexing ops. GatherElements is an instance of the movement kernel (kernels/gather-index.ts:
// an affine map over data plus one looked-up row along the axis); GatherND, the scatters, TensorScatter, OneHot
// and ReverseSequence have one owner-computes kernel each (one invocation per output element or storage word);
// TopK reduces each line in workgroup memory, writing packed value dtypes through scratch and a Cast. Attributes
// and shapes are read here and baked into the specs.
import { type Node, numel, strides } from '../../ir/index.js';
import { resolveAxis } from '../../ir/ops/common.js';
import type { Reduction } from '../../ir/ops/index-util.js';
import { type GatherIndexSpec, gatherIndex, simplifyGatherIndex } from '../kernels/gather-index.js';
import { gatherNd } from '../kernels/gather-nd.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { oneHot } from '../kernels/onehot.js';
import { reverseSequence } from '../kernels/reverse-sequence.js';
import { scatter } from '../kernels/scatter.js';
import { tensorScatter } from '../kernels/tensor-scatter.js';
import { topK, topKSpec } from '../kernels/topk.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, type Step, attrsOf } from './lowering.js';
import { withOutput } from './reduce-lowerings.js';

const WORKGROUP = 64;
const args = (...values: string[]): ArgRef[] => values.map((value) => ({ value }));
const target = (cx: LoweringContext): { shaderF16: boolean } => ({ shaderF16: cx.target.shaderF16 });

function tensorOf(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  const shape = t.shape.map((d) => {
    if (typeof d !== 'number') throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; the indexing kernels need static shapes`);
    return d;
  });
  return { dtype: t.dtype, shape };
}

/** One step writing node output 0, or none when it is empty. */
function oneStep(node: Node, cx: LoweringContext, step: () => Step): Lowering {
  const out = tensorOf(cx, node.outputs[0]!);
  return { kind: 'steps', steps: numel(out.shape) === 0 ? [] : [step()] };
}

/** Inputs the node reads: data needs elements wherever an index must land in it. */
function requireData(node: Node, data: TensorSpec, what: string): void {
  if (numel(data.shape) === 0) throw new LoweringError(`${node.op}: ${what} is empty, so every index is out of range`);
}

const gatherElements: NodeLowering = (node, cx) =>
  oneStep(node, cx, () => {
    const data = tensorOf(cx, node.inputs[0]!);
    const indices = tensorOf(cx, node.inputs[1]!);
    const output = tensorOf(cx, node.outputs[0]!);
    requireData(node, data, 'data');
    const axis = resolveAxis(node.op, attrsOf(node).int('axis'), data.shape.length);
    const ds = strides(data.shape);
    // Iterate over the output (= indices) shape: data's strides off the axis, the looked-up row along it.
    const source = { base: 0, terms: ds.map((s, a) => (a === axis ? 0 : s)), gather: { len: data.shape[axis]!, mult: ds[axis]!, terms: strides(indices.shape) } };
    const spec: GatherIndexSpec = {
      kernel: 'gather-index',
      target: target(cx),
      workgroupSize: WORKGROUP,
      fill: 0,
      keep: false,
      output,
      inputs: [data],
      indices,
      shape: output.shape,
      sources: [source],
    };
    return { kernel: cx.kernel(gatherIndex, simplifyGatherIndex(spec)), args: args(...node.inputs, node.outputs[0]!), flops: numel(output.shape) };
  });

const gatherNdLowering: NodeLowering = (node, cx) =>
  oneStep(node, cx, () => {
    const [data, indices, output] = [tensorOf(cx, node.inputs[0]!), tensorOf(cx, node.inputs[1]!), tensorOf(cx, node.outputs[0]!)];
    requireData(node, data, 'data');
    const spec = { kernel: 'gather-nd', target: target(cx), data, indices, output, batchDims: attrsOf(node).int('batch_dims'), workgroupSize: WORKGROUP } as const;
    return { kernel: cx.kernel(gatherNd, spec), args: args(...node.inputs, node.outputs[0]!), flops: numel(output.shape) };
  });

const scatterLowering =
  (form: 'elements' | 'nd'): NodeLowering =>
  (node, cx) =>
    oneStep(node, cx, () => {
      const a = attrsOf(node);
      const [data, indices, updates] = node.inputs.map((v) => tensorOf(cx, v)) as [TensorSpec, TensorSpec, TensorSpec];
      const axis = form === 'elements' ? resolveAxis(node.op, a.int('axis'), data.shape.length) : 0;
      const reduction = a.string('reduction') as Reduction;
      const spec = { kernel: 'scatter', target: target(cx), form, data, indices, updates, axis, reduction, workgroupSize: WORKGROUP } as const;
      const candidates = form === 'elements' ? indices.shape[axis]! : numel(indices.shape.slice(0, -1));
      return { kernel: cx.kernel(scatter, spec), args: args(...node.inputs, node.outputs[0]!), flops: numel(data.shape) * candidates };
    });

const tensorScatterLowering: NodeLowering = (node, cx) =>
  oneStep(node, cx, () => {
    const a = attrsOf(node);
    const cache = tensorOf(cx, node.inputs[0]!);
    const update = tensorOf(cx, node.inputs[1]!);
    const given = node.inputs[2] ? [node.inputs[2]] : [];
    const spec = {
      kernel: 'tensor-scatter',
      target: target(cx),
      cache,
      update,
      ...(given.length ? { writeIndices: tensorOf(cx, given[0]!) } : {}),
      axis: resolveAxis(node.op, a.int('axis'), cache.shape.length),
      circular: a.string('mode') === 'circular',
      workgroupSize: WORKGROUP,
    } as const;
    return { kernel: cx.kernel(tensorScatter, spec), args: args(node.inputs[0]!, node.inputs[1]!, ...given, node.outputs[0]!), flops: numel(cache.shape) };
  });

const oneHotLowering: NodeLowering = (node, cx) =>
  oneStep(node, cx, () => {
    const a = attrsOf(node);
    const [indices, values, output] = [tensorOf(cx, node.inputs[0]!), tensorOf(cx, node.inputs[1]!), tensorOf(cx, node.outputs[0]!)];
    const axis = resolveAxis(node.op, a.int('axis'), output.shape.length);
    const spec = { kernel: 'onehot', target: target(cx), indices, values, output, axis, negative: a.int('negative') === 1, workgroupSize: WORKGROUP } as const;
    return { kernel: cx.kernel(oneHot, spec), args: args(...node.inputs, node.outputs[0]!), flops: numel(output.shape) };
  });

const reverseSequenceLowering: NodeLowering = (node, cx) =>
  oneStep(node, cx, () => {
    const a = attrsOf(node);
    const [input, lens] = [tensorOf(cx, node.inputs[0]!), tensorOf(cx, node.inputs[1]!)];
    const spec = { kernel: 'reverse-sequence', target: target(cx), input, lens, batchAxis: a.int('batch_axis'), timeAxis: a.int('time_axis'), workgroupSize: WORKGROUP } as const;
    return { kernel: cx.kernel(reverseSequence, spec), args: args(...node.inputs, node.outputs[0]!), flops: numel(input.shape) };
  });

const topKLowering: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const input = tensorOf(cx, node.inputs[0]!);
  const axis = resolveAxis(node.op, a.int('axis'), input.shape.length);
  const k = a.int('k');
  const lines = numel(input.shape) / Math.max(1, input.shape[axis]!);
  if (k === 0 || lines === 0) return { kind: 'steps', steps: [] };
  return withOutput(node, cx, (values, arg) => {
    const spec = topKSpec(cx.target, input, values, axis, k, a.int('largest') === 1);
    return [{ kernel: cx.kernel(topK, spec), args: [{ value: node.inputs[0]! }, arg, { value: node.outputs[1]! }], flops: k * numel(input.shape) }];
  });
};

export const INDEXING_LOWERINGS: Readonly<Record<string, NodeLowering>> = {
  GatherElements: gatherElements,
  GatherND: gatherNdLowering,
  ScatterElements: scatterLowering('elements'),
  ScatterND: scatterLowering('nd'),
  TensorScatter: tensorScatterLowering,
  OneHot: oneHotLowering,
  ReverseSequence: reverseSequenceLowering,
  TopK: topKLowering,
};
