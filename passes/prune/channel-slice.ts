// Removing channels (papers.md §1.4): every constant slice recorded on a space keeps only the kept channels'
// blocks (a stem's rows and bias entries, norm and bias constants, the consumers' input columns, a flatten's
// column runs), a concatenation keeps its parts' kept channels at their new offsets, and the attributes that
// count channels (a Reshape's target dim, a depthwise Conv's group) are rewritten. The value types are then
// inferred again from the smaller constants.
import { type ConstantDecl, type Graph, type Node, type Tensor, makeTensor, updateGraph } from '../../ir/index.js';
import type { ChannelFlow } from './channel-flow.js';
import type { ChannelSlice } from './spaces.js';

/** The kept channels of every root space that loses some, given the removed channels of the stems' spaces. */
export function keptChannels(flow: ChannelFlow, removed: ReadonlyMap<number, readonly number[]>): Map<number, number[]> {
  const { spaces } = flow;
  const kept = new Map<number, number[] | undefined>();
  // undefined: the space keeps all its channels. An auxiliary space keeps its parts' kept channels, each a block of
  // `scale` of its own channels at the part's offset.
  const keepOf = (r: number): number[] | undefined => {
    if (kept.has(r)) return kept.get(r);
    const rec = spaces.get(r);
    let keep: number[] | undefined;
    if (rec.parts) {
      const parts = rec.parts.map((p) => ({ p, keep: keepOf(spaces.root(p.space)) }));
      if (parts.some((x) => x.keep))
        keep = parts.flatMap(({ p, keep: k }) => (k ?? range(spaces.get(p.space).size)).flatMap((c) => range(p.scale).map((i) => p.offset + c * p.scale + i)));
    } else if (removed.has(r)) {
      const gone = new Set(removed.get(r));
      keep = range(rec.size).filter((c) => !gone.has(c));
    }
    kept.set(r, keep);
    return keep;
  };
  const out = new Map<number, number[]>();
  for (const r of spaces.roots()) {
    const keep = keepOf(r);
    if (keep) out.set(r, keep);
  }
  return out;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** t with only the blocks of the kept channels along the slice's axis. */
export function takeChannels(t: Tensor, s: ChannelSlice, keep: readonly number[]): Tensor {
  const shape = [...t.shape];
  const outer = shape.slice(0, s.axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
  const extent = shape[s.axis]!;
  const rows = keep.flatMap((c) => range(s.unit).map((u) => c * s.unit + u));
  shape[s.axis] = rows.length;
  const out = new Float64Array(outer * rows.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++)
    for (const r of rows) {
      const from = (o * extent + r) * inner;
      out.set(t.data.subarray(from, from + inner), at);
      at += inner;
    }
  return makeTensor(t.dtype, shape, out);
}

/** g with the channels outside `kept` removed (types of node outputs dropped: the caller infers them again). */
export function sliceGraph(g: Graph, flow: ChannelFlow, kept: ReadonlyMap<number, readonly number[]>, load: (constant: string) => Tensor): Graph {
  const { spaces } = flow;
  const values = new Map<string, Tensor>();
  for (const [r, keep] of kept)
    for (const s of spaces.get(r).slices) values.set(s.constant, takeChannels(values.get(s.constant) ?? load(s.constant), s, keep));
  const constants = g.constants.map((c): ConstantDecl => {
    const value = values.get(c.name);
    if (!value) return c;
    const { external: _file, ...rest } = c;
    return { ...rest, type: { ...c.type, shape: value.shape }, value };
  });
  const nodes = g.nodes.map((n): Node => n);
  for (const w of flow.rewrites) {
    const keep = kept.get(spaces.root(w.space));
    if (!keep) continue;
    const n = nodes[w.node]!;
    if (w.attr === 'group') nodes[w.node] = { ...n, attrs: { ...n.attrs, group: keep.length } };
    else if (w.attr === 'split') {
      // Explicit sizes (an equal split by num_outputs may no longer be equal), this output's set to its kept width.
      const sizes = n.outputs.map((o) => g.types.get(o)!.shape[Number(n.attrs.axis ?? 0) < 0 ? g.types.get(o)!.shape.length + Number(n.attrs.axis) : Number(n.attrs.axis ?? 0)] as number);
      const split = [...((n.attrs.split as readonly number[] | undefined) ?? sizes)];
      split[w.index] = keep.length * w.unit;
      const { num_outputs: _count, ...attrs } = n.attrs;
      nodes[w.node] = { ...n, attrs: { ...attrs, split } };
    } else {
      const dims = [...(n.attrs.shape as readonly (number | string)[])];
      if (typeof dims[w.index] === 'number' && (dims[w.index] as number) > 0) dims[w.index] = keep.length * w.unit;
      nodes[w.node] = { ...n, attrs: { ...n.attrs, shape: dims } };
    }
  }
  const inputs = g.inputs.map((decl) => {
    const s = flow.inputs.find((x) => x.input === decl.name);
    const keep = s && kept.get(spaces.root(s.space));
    if (!s || !keep) return decl;
    const unit = (decl.type.shape[s.axis] as number) / spaces.get(s.space).size;
    return { ...decl, type: { ...decl.type, shape: decl.type.shape.map((d, i) => (i === s.axis ? keep.length * unit : d)) } };
  });
  const keepTypes = new Set(constants.map((c) => c.name));
  const types = new Map([...g.types].filter(([k]) => keepTypes.has(k)));
  for (const c of constants) types.set(c.name, c.type);
  for (const i of inputs) types.set(i.name, i.type);
  return updateGraph(g, { inputs, constants, nodes, types });
}
