// The attention ops in the pruning dependency analysis: heads are groups (papers.md §1.2 step 0, composed
// attention modules; "num_head" mode). A Split of a fused QKV projection along the channels makes the projection's
// space auxiliary, its parts the q, k and v spaces; the reshape into [tokens, heads, head_dim] coarsens each to
// heads (reshape-channels.ts); Rope works within a head; CacheWrite carries the key/value heads into the decoder's
// cache, whose heads (a graph input and its state output) shrink with them; Attention ties q, k and v: with GQA
// the query heads that share a key/value head become one channel first, so a key/value head goes with its query
// heads. A head's output is exactly zero when its value rows are (whatever q and k hold), so Attention passes the
// value's zeros on; the output projection's input columns are where the heads end. Attention as exporters write it
// (PyTorch, tf2onnx) is the same in plain ops: a MatMul of two tensors batched over the heads axis (q.k^T, then
// the probabilities times v) ties their heads and is zero where either factor is; a Softmax or norm along another
// axis (the keys) passes the heads.
import { describeNode, type Node } from '../../ir/index.js';
import type { ChannelOf, FlowContext } from './channel-flow.js';

/** Handles node when it is one of the attention ops; false to let the walk treat it as any other reader. */
export function attentionOps(cx: FlowContext, node: Node, index: number): boolean {
  switch (node.op) {
    case 'Split':
      return split(cx, node, index);
    case 'Rope':
      return rope(cx, node);
    case 'CacheWrite':
      return cacheWrite(cx, node);
    case 'Attention':
      return attention(cx, node);
    case 'MatMul':
      return batchedMatMul(cx, node);
    case 'Softmax':
    case 'LogSoftmax':
    case 'LayerNormalization':
      return acrossOtherAxis(cx, node);
    default:
      return false;
  }
}

const spaced = (cx: FlowContext, v: string | undefined): ChannelOf | undefined => (v ? cx.channels.get(v) : undefined);

function split(cx: FlowContext, node: Node, index: number): boolean {
  const from = node.inputs[0]!;
  const c = spaced(cx, from)!;
  const rank = cx.typeOf(from)?.shape.length ?? 0;
  const axis = Number(node.attrs.axis ?? 0) < 0 ? Number(node.attrs.axis) + rank : Number(node.attrs.axis ?? 0);
  const root = cx.spaces.root(c.space);
  const rec = cx.spaces.get(root);
  const sizes = node.outputs.map((o) => cx.typeOf(o)?.shape[axis]);
  if (axis !== c.axis || rec.parts || sizes.some((s) => typeof s !== 'number' || s % c.unit !== 0)) return false;
  let offset = 0;
  rec.parts = node.outputs.map((o, i) => {
    const size = (sizes[i] as number) / c.unit;
    const space = cx.spaces.create(size);
    cx.carry(o, { space, axis, unit: c.unit });
    cx.rewrites.push({ node: index, attr: 'split', index: i, unit: c.unit, space });
    const part = { space, offset, scale: 1 };
    offset += size;
    return part;
  });
  cx.steps.push({ kind: 'split', from, outs: node.outputs });
  return true;
}

/** Rope rotates pairs within each head's last axis: heads (or channels on another axis) pass, zeros stay zero. */
function rope(cx: FlowContext, node: Node): boolean {
  const c = spaced(cx, node.inputs[0]);
  const rank = cx.typeOf(node.inputs[0]!)?.shape.length ?? 0;
  if (!c || c.axis === rank - 1) return false;
  cx.carry(node.outputs[0]!, c);
  cx.steps.push({ kind: 'pass', from: node.inputs[0]!, out: node.outputs[0]!, keepsZero: true, zeroIf: [] });
  return true;
}

/**
 * The new rows' heads go into the cache input (a decoder's state, zero when the sequence starts) and its state
 * output: a head whose rows are always zero keeps a zero cache.
 */
function cacheWrite(cx: FlowContext, node: Node): boolean {
  const [cache, rows] = node.inputs;
  const c = spaced(cx, rows);
  const isInput = cx.graph.inputs.some((i) => i.name === cache);
  if (!c || spaced(cx, cache) || !isInput || c.axis !== 1 || c.unit !== 1 || node.inputs.slice(2).some((v) => spaced(cx, v))) return false;
  cx.inputs.push({ input: cache!, axis: 1, space: c.space });
  cx.state.add(node.outputs[0]!);
  cx.carry(node.outputs[0]!, c);
  cx.steps.push({ kind: 'pass', from: rows!, out: node.outputs[0]!, keepsZero: true, zeroIf: [] });
  return true;
}

function attention(cx: FlowContext, node: Node): boolean {
  const [q, k, v] = node.inputs.slice(0, 3).map((x) => spaced(cx, x));
  const where = describeNode(node);
  if (!q || !k || !v || node.inputs.slice(3).some((x) => spaced(cx, x)) || [q, k, v].some((c) => c.axis !== 1 || c.unit !== 1)) {
    cx.barAll(node, 'attention over tensors without head groups');
    return true;
  }
  const heads = cx.spaces.get(q.space).size;
  const kvHeads = cx.spaces.get(k.space).size;
  // GQA: the query heads of one key/value head become one channel.
  if (heads % kvHeads !== 0 || !cx.coarsen(q.space, heads / kvHeads, where)) {
    cx.barAll(node, `${heads} query heads cannot share ${kvHeads} key/value heads`);
    return true;
  }
  let space = cx.spaces.union(q.space, k.space, where);
  space = cx.spaces.union(space, v.space, where);
  cx.spaces.get(space).heads = true;
  cx.carry(node.outputs[0]!, { space, axis: 1, unit: cx.channels.get(node.inputs[0]!)!.unit });
  cx.steps.push({ kind: 'pass', from: node.inputs[2]!, out: node.outputs[0]!, keepsZero: true, zeroIf: [] });
  return true;
}

/** MatMul of two activations that both carry heads (or channels) on the same batch axis: tie them. */
function batchedMatMul(cx: FlowContext, node: Node): boolean {
  const [a, b] = node.inputs.map((x) => spaced(cx, x));
  const rank = cx.typeOf(node.outputs[0]!)?.shape.length ?? 0;
  const aligned = (x: string, c: ChannelOf): number => c.axis + rank - (cx.typeOf(x)?.shape.length ?? 0);
  if (!a || !b || a.unit !== b.unit) return false;
  const axis = aligned(node.inputs[0]!, a);
  if (axis !== aligned(node.inputs[1]!, b) || axis >= rank - 2) return false;
  const space = cx.spaces.union(a.space, b.space, describeNode(node));
  // A product batched over the axis: its channels are attention heads (for --prune-heads and the report).
  cx.spaces.get(space).heads = true;
  cx.carry(node.outputs[0]!, { space, axis, unit: a.unit });
  cx.steps.push({ kind: 'product', from: [node.inputs[0]!, node.inputs[1]!], out: node.outputs[0]! });
  return true;
}

/** A softmax or norm along an axis other than the channels: each channel's slice is normalized on its own. */
function acrossOtherAxis(cx: FlowContext, node: Node): boolean {
  const c = spaced(cx, node.inputs[0]);
  const rank = cx.typeOf(node.inputs[0]!)?.shape.length ?? 0;
  const raw = Number(node.attrs.axis ?? -1);
  const axis = raw < 0 ? raw + rank : raw;
  // LayerNormalization normalizes every axis from `axis` on (its scale and bias run along them too).
  const touches = node.op === 'LayerNormalization' ? c && c.axis >= axis : c && c.axis === axis;
  if (!c || touches || node.inputs.slice(1).some((v) => v && spaced(cx, v)) || node.outputs.length !== 1) return false;
  cx.carry(node.outputs[0]!, c);
  cx.steps.push({ kind: 'pass', from: node.inputs[0]!, out: node.outputs[0]!, keepsZero: false, zeroIf: [] });
  return true;
}
