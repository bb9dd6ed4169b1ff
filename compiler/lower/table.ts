// IR op -> lowering. Elementwise ops share one generator (their WGSL is a row in elementwise-wgsl.ts); ops that
// only reinterpret a shape alias their input's memory and cost nothing at run time.
import { numel } from '../../ir/index.js';
import { ELEMENTWISE_WGSL } from '../kernels/elementwise-wgsl.js';
import type { Node } from '../../ir/index.js';
import { chainInputs, elementwise, fusedElementwiseSpec } from '../kernels/elementwise.js';
import type { NodeLowering } from './lowering.js';
import { REDUCE_LOWERINGS } from './reduce-lowerings.js';
import { MATMUL_LOWERINGS } from './matmul-lowerings.js';
import { MOVEMENT_LOWERINGS } from './movement-lowerings.js';
import { DECODE_LOWERINGS } from './decode-lowerings.js';
import { STORAGE_LOWERINGS } from './storage-lowerings.js';
import { SAMPLING_LOWERINGS } from './sampling-lowerings.js';
import { INDEXING_LOWERINGS } from './indexing-lowerings.js';
import { LINEAR_ATTENTION_LOWERINGS } from './linear-attention-lowerings.js';
import { DIM_LOWERINGS } from './dim-lowerings.js';
import { BIT_LOWERINGS } from './bit-lowerings.js';

const aliasOfFirstInput: NodeLowering = (node) => ({ kind: 'alias', of: node.inputs[0]! });

/** One kernel for a chain of elementwise nodes (a single node is a chain of one; the last node is the one scheduled). */
export const lowerFusedElementwise =
  (group: readonly Node[]): NodeLowering =>
  (node, cx) => {
    const spec = fusedElementwiseSpec(group, cx.typeOf, cx.target, 64, cx.dims);
    return {
      kind: 'steps',
      steps: [
        {
          kernel: cx.kernel(elementwise, spec),
          args: [...(spec.dims ? [{ dims: true } as const] : []), ...chainInputs(group).map((value) => ({ value })), { value: node.outputs[0]! }],
          flops: numel(spec.output.shape) * group.length,
        },
      ],
    };
  };

const lowerElementwise: NodeLowering = (node, cx) => lowerFusedElementwise([node])(node, cx);

export const LOWERINGS: Readonly<Record<string, NodeLowering>> = {
  ...Object.fromEntries(Object.keys(ELEMENTWISE_WGSL).map((op) => [op, lowerElementwise])),
  Reshape: aliasOfFirstInput,
  Flatten: aliasOfFirstInput,
  Squeeze: aliasOfFirstInput,
  Unsqueeze: aliasOfFirstInput,
  ...REDUCE_LOWERINGS,
  ...MATMUL_LOWERINGS,
  ...MOVEMENT_LOWERINGS,
  ...DECODE_LOWERINGS,
  ...STORAGE_LOWERINGS,
  ...SAMPLING_LOWERINGS,
  ...INDEXING_LOWERINGS,
  ...LINEAR_ATTENTION_LOWERINGS,
  ...DIM_LOWERINGS,
  ...BIT_LOWERINGS,
};
