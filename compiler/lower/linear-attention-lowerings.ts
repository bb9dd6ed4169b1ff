// Lowering of LinearAttention (ir/ops/linear-attention.ts): one kernel writing both outputs (f32, unpacked, so
// each invocation stores its own words). The FLOP count is per step and (kv head, value column): the decay, the
// retrieval and the update over dk, plus one read-out over dk per query head of the group.
import { type Node, isStaticShape, numel } from '../../ir/index.js';
import { linearAttentionDims } from '../../ir/ops/linear-attention.js';
import { linearAttention, linearAttentionSpec } from '../kernels/linear-attention.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { type LoweringContext, LoweringError, type NodeLowering, attrsOf } from './lowering.js';

function spec(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; LinearAttention needs static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

const lowerLinearAttention: NodeLowering = (node: Node, cx) => {
  const a = attrsOf(node);
  const given = (i: number): string | undefined => (node.inputs[i] ? node.inputs[i] : undefined);
  const types = node.inputs.map((v) => (v ? cx.typeOf(v) : undefined));
  const rule = a.string('update_rule');
  const dims = linearAttentionDims(types, a.int('q_num_heads'), a.int('kv_num_heads'), rule);
  const [q, k, v, state] = node.inputs as [string, string, string, string];
  const [decay, beta] = [given(4), given(5)];
  const [y, present] = node.outputs as [string, string];
  if (numel(spec(cx, present).shape) === 0 && numel(spec(cx, y).shape) === 0) return { kind: 'steps', steps: [] };
  const s = linearAttentionSpec(cx.target, dims, rule, a.float('scale'), {
    q: spec(cx, q),
    k: spec(cx, k),
    v: spec(cx, v),
    state: spec(cx, state),
    ...(decay ? { decay: spec(cx, decay) } : {}),
    ...(beta ? { beta: spec(cx, beta) } : {}),
    y: spec(cx, y),
    present: spec(cx, present),
  });
  const { batch, steps, qHeads, kvHeads, keyDim, valueDim } = dims;
  const flops = batch * steps * kvHeads * valueDim * keyDim * (2 + (decay ? 1 : 0) + (beta ? 2 : 0) + (2 * qHeads) / kvHeads);
  const args = [q, k, v, state, ...(decay ? [decay] : []), ...(beta ? [beta] : []), y, present].map((value) => ({ value }));
  return { kind: 'steps', steps: [{ kernel: cx.kernel(linearAttention, s), args, flops }] };
};

export const LINEAR_ATTENTION_LOWERINGS: Record<string, NodeLowering> = { LinearAttention: lowerLinearAttention };
