// Lowerings of the spatial-sampling ops: gathers and scatters at computed coordinates, one kernel family each
// (GridSample, RoiAlign, Col2Im, DeformConv as one invocation per output element; MaxUnpool as a clear, a
// scatter of owners and a gather). Specs are built from the inferred types and the ops' attributes.
import { type Node, numel } from '../../ir/index.js';
import { col2imGeometry } from '../../ir/ops/col2im.js';
import { deformGeometry } from '../../ir/ops/deform-conv.js';
import { gridSampleAttrs } from '../../ir/ops/grid-sample.js';
import { unpooledSize } from '../../ir/ops/max-unpool.js';
import { roiAlignAttrs } from '../../ir/ops/roi-align.js';
import { type Col2ImSpec, col2im } from '../kernels/col2im.js';
import { type DeformConvSpec, deformConv } from '../kernels/deform-conv.js';
import { type GridSampleSpec, gridSample } from '../kernels/grid-sample.js';
import { type MaxUnpoolSpec, maxUnpool } from '../kernels/max-unpool.js';
import { type RoiAlignSpec, roiAlign } from '../kernels/roi-align.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, attrsOf } from './lowering.js';

function tensorOf(cx: LoweringContext, value: string, node: Node): TensorSpec {
  const t = cx.typeOf(value);
  const shape = t.shape.map((d) => {
    if (typeof d !== 'number') throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; ${node.op} kernels need static shapes`);
    return d;
  });
  return { dtype: t.dtype, shape };
}
const args = (...values: string[]): ArgRef[] => values.map((value) => ({ value }));
const none: Lowering = { kind: 'steps', steps: [] };

const lowerGridSample: NodeLowering = (node, cx) => {
  const a = gridSampleAttrs(attrsOf(node));
  const spec: GridSampleSpec = {
    kernel: 'grid-sample',
    target: { shaderF16: cx.target.shaderF16 },
    input: tensorOf(cx, node.inputs[0]!, node),
    grid: tensorOf(cx, node.inputs[1]!, node),
    output: tensorOf(cx, node.outputs[0]!, node),
    mode: a.mode,
    padding: a.padding,
    alignCorners: a.alignCorners,
    workgroupSize: 64,
  };
  const count = numel(spec.output.shape);
  if (count === 0) return none;
  const taps = (a.mode === 'nearest' ? 1 : a.mode === 'linear' ? 2 : 4) ** (spec.input.shape.length - 2);
  return { kind: 'steps', steps: [{ kernel: cx.kernel(gridSample, spec), args: args(node.inputs[0]!, node.inputs[1]!, node.outputs[0]!), flops: 2 * count * taps }] };
};

const lowerRoiAlign: NodeLowering = (node, cx) => {
  const spec: RoiAlignSpec = {
    kernel: 'roi-align',
    target: { shaderF16: cx.target.shaderF16 },
    ...roiAlignAttrs(attrsOf(node)),
    input: tensorOf(cx, node.inputs[0]!, node),
    rois: tensorOf(cx, node.inputs[1]!, node),
    batchIndices: tensorOf(cx, node.inputs[2]!, node),
    output: tensorOf(cx, node.outputs[0]!, node),
    workgroupSize: 64,
  };
  const count = numel(spec.output.shape);
  if (count === 0) return none;
  // Per output: the sampling points (4 taps each); adaptive sampling counts as one point per bin here.
  const flops = count * 8 * Math.max(1, spec.samplingRatio) ** 2;
  return { kind: 'steps', steps: [{ kernel: cx.kernel(roiAlign, spec), args: args(...node.inputs, node.outputs[0]!), flops }] };
};

const lowerMaxUnpool: NodeLowering = (node, cx) => {
  const input = tensorOf(cx, node.inputs[0]!, node);
  const output = tensorOf(cx, node.outputs[0]!, node);
  const count = numel(output.shape);
  if (count === 0) return none;
  const unpooled = [...input.shape.slice(0, 2), ...unpooledSize(node.op, input.shape.slice(2), attrsOf(node))];
  const spec = (phase: MaxUnpoolSpec['phase']): MaxUnpoolSpec => ({
    kernel: 'max-unpool',
    target: { shaderF16: cx.target.shaderF16 },
    phase,
    input,
    indices: tensorOf(cx, node.inputs[1]!, node),
    output,
    unpooled,
    workgroupSize: 64,
  });
  const owner: ArgRef = { scratch: 'unpool-owner', bytes: 4 * count };
  return {
    kind: 'steps',
    steps: [
      { kernel: cx.kernel(maxUnpool, spec('clear')), args: [owner], flops: 0 },
      { kernel: cx.kernel(maxUnpool, spec('scatter')), args: [{ value: node.inputs[1]! }, owner], flops: 0 },
      { kernel: cx.kernel(maxUnpool, spec('gather')), args: [{ value: node.inputs[0]! }, owner, { value: node.outputs[0]! }], flops: 0 },
    ],
  };
};

const lowerCol2Im: NodeLowering = (node, cx) => {
  const spec: Col2ImSpec = {
    kernel: 'col2im',
    target: { shaderF16: cx.target.shaderF16 },
    ...col2imGeometry(attrsOf(node)),
    input: tensorOf(cx, node.inputs[0]!, node),
    output: tensorOf(cx, node.outputs[0]!, node),
    workgroupSize: 64,
  };
  const count = numel(spec.output.shape);
  if (count === 0) return none;
  return { kind: 'steps', steps: [{ kernel: cx.kernel(col2im, spec), args: args(node.inputs[0]!, node.outputs[0]!), flops: numel(spec.input.shape) }] };
};

const lowerDeformConv: NodeLowering = (node, cx) => {
  const present = (i: number): string | undefined => (node.inputs[i] ? node.inputs[i] : undefined);
  const types = node.inputs.map((v) => (v ? cx.typeOf(v) : undefined));
  const [bias, mask] = [present(3), present(4)];
  const spec: DeformConvSpec = {
    kernel: 'deform-conv',
    target: { shaderF16: cx.target.shaderF16 },
    ...deformGeometry(types, attrsOf(node)),
    input: tensorOf(cx, node.inputs[0]!, node),
    weight: tensorOf(cx, node.inputs[1]!, node),
    offset: tensorOf(cx, node.inputs[2]!, node),
    ...(bias ? { bias: tensorOf(cx, bias, node) } : {}),
    ...(mask ? { mask: tensorOf(cx, mask, node) } : {}),
    output: tensorOf(cx, node.outputs[0]!, node),
    workgroupSize: 64,
  };
  const count = numel(spec.output.shape);
  if (count === 0) return none;
  const flops = count * 2 * numel(spec.weight.shape.slice(1)) * 6;
  const bound = [node.inputs[0]!, node.inputs[1]!, node.inputs[2]!, ...(bias ? [bias] : []), ...(mask ? [mask] : []), node.outputs[0]!];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(deformConv, spec), args: args(...bound), flops }] };
};

export const SAMPLING_LOWERINGS: Readonly<Record<string, NodeLowering>> = {
  GridSample: lowerGridSample,
  RoiAlign: lowerRoiAlign,
  MaxUnpool: lowerMaxUnpool,
  Col2Im: lowerCol2Im,
  DeformConv: lowerDeformConv,
};
