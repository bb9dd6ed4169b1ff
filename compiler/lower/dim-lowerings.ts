// Lowerings of DimValues and Arange (ir/ops/dim-values.ts): values made from the run's symbolic dims.
import { attrsOf } from './lowering.js';
import { arange, dimValues } from '../kernels/dim-values.js';
import type { NodeLowering } from './lowering.js';

const lowerDimValues: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const values = a.dims('values');
  const symbolic = values.some((v) => typeof v !== 'number');
  const spec = { kernel: 'dim-values', target: { shaderF16: cx.target.shaderF16 }, values, scalar: a.int('scalar') === 1, ...(symbolic ? { dims: cx.dims } : {}) } as const;
  return {
    kind: 'steps',
    steps: [{ kernel: cx.kernel(dimValues, spec), args: [...(symbolic ? [{ dims: true } as const] : []), { value: node.outputs[0]! }], flops: values.length }],
  };
};

const lowerArange: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const count = a.dims('count')[0]!;
  const symbolic = typeof count !== 'number';
  const dtype = a.string('dtype') as 'i32' | 'f32';
  const spec = { kernel: 'arange', target: { shaderF16: cx.target.shaderF16 }, count, start: a.float('start'), delta: a.float('delta'), dtype, ...(symbolic ? { dims: cx.dims } : {}) } as const;
  if (count === 0) return { kind: 'steps', steps: [] };
  return {
    kind: 'steps',
    steps: [{ kernel: cx.kernel(arange, spec), args: [...(symbolic ? [{ dims: true } as const] : []), { value: node.outputs[0]! }], flops: 2 }],
  };
};

export const DIM_LOWERINGS: Record<string, NodeLowering> = { DimValues: lowerDimValues, Arange: lowerArange };
