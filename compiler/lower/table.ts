// IR op -> lowering. Elementwise ops share one generator (their WGSL is a row in elementwise-wgsl.ts); ops that
// only reinterpret a shape alias their input's memory and cost nothing at run time.
import { numel } from '../../ir/index.js';
import { ELEMENTWISE_WGSL } from '../kernels/elementwise-wgsl.js';
import { elementwise, elementwiseSpec } from '../kernels/elementwise.js';
import type { NodeLowering } from './lowering.js';

const aliasOfFirstInput: NodeLowering = (node) => ({ kind: 'alias', of: node.inputs[0]! });

const lowerElementwise: NodeLowering = (node, cx) => {
  const spec = elementwiseSpec(node, cx.typeOf, cx.target);
  return {
    kind: 'steps',
    steps: [
      {
        kernel: cx.kernel(elementwise, spec),
        args: [...node.inputs.map((value) => ({ value })), { value: node.outputs[0]! }],
        flops: numel(spec.output.shape),
      },
    ],
  };
};

export const LOWERINGS: Readonly<Record<string, NodeLowering>> = {
  ...Object.fromEntries(Object.keys(ELEMENTWISE_WGSL).map((op) => [op, lowerElementwise])),
  Reshape: aliasOfFirstInput,
  Flatten: aliasOfFirstInput,
  Squeeze: aliasOfFirstInput,
  Unsqueeze: aliasOfFirstInput,
};
