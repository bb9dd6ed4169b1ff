// The pruning dependency analysis (papers.md §1.2, adapted to kiln's ops): one walk over the graph in program
// order that says, for every value, which channel space (spaces.ts) its channel axis carries, and records what
// each node does to those channels as a flow step (channel-zeros.ts evaluates the steps to find the channels that
// are exactly zero where they are consumed). Stems (MatMul/Gemm/Conv/ConvTranspose over a constant weight) end the
// space of their input at their input columns (an exit) and start a new one for their output rows; elementwise ops,
// pooling, BatchNormalization, depthwise Conv, Transpose and the reshapes that keep the channel axis whole (or
// flatten it with what follows) pass channels through; an elementwise op over two spaces ties them; Concat on the
// channel axis makes an auxiliary space. Any other reader, a graph output, or a shared constant is a barrier: its
// space's channels all stay.
import { type ConstantDecl, type Graph, type Node, type TensorType, describeNode, isFloat, isPlainStorage, matmulOperands, nodeScalarFn } from '../../ir/index.js';
import type { ScalarFn } from '../../ir/ops/elementwise.js';
import { attentionOps } from './attention-flow.js';
import { channelAfterReshape, channelAfterTranspose } from './reshape-channels.js';
import { type ChannelSlice, Spaces } from './spaces.js';

/** Where a value's channels are: along `axis`, `unit` consecutive elements per channel of `space`. */
export interface ChannelOf {
  readonly space: number;
  readonly axis: number;
  readonly unit: number;
}

/** A constant operand of an elementwise step: sliced per channel, or broadcast along the channel axis (whole). */
export interface StepConstant {
  readonly operand: number;
  readonly constant: string;
  readonly slice?: ChannelSlice;
}

export type FlowStep =
  /** A stem's output: channel c is zero when every row slice (weight row, bias entry) is all zero at c. */
  | { readonly kind: 'stem'; readonly out: string; readonly rows: readonly ChannelSlice[] }
  /** An elementwise node: fn over the operands; `spaced` are the operand indices carrying the output's channels. */
  | { readonly kind: 'map'; readonly out: string; readonly inputs: readonly string[]; readonly spaced: readonly number[]; readonly fn: ScalarFn; readonly constants: readonly StepConstant[] }
  /**
   * Channels passed through; a zero channel stays zero when `keepsZero`, the `zeroIf` slices are all zero at the
   * channel and, with `zeroIfAny`, one of those is.
   */
  | { readonly kind: 'pass'; readonly from: string; readonly out: string; readonly keepsZero: boolean; readonly zeroIf: readonly ChannelSlice[]; readonly zeroIfAny?: readonly ChannelSlice[] }
  | { readonly kind: 'concat'; readonly from: readonly string[]; readonly out: string }
  /** A Split along the channel axis: output i carries part i of the input's (now auxiliary) space. */
  | { readonly kind: 'split'; readonly from: string; readonly outs: readonly string[] }
  /** A product batched over the channels (attention's q.k^T, p.v per head): zero where either factor is. */
  | { readonly kind: 'product'; readonly from: readonly [string, string]; readonly out: string }
  /** An in-dim consumer: the channels of `from` are contracted here (the stem `node` outputs). */
  | { readonly kind: 'exit'; readonly from: string; readonly node: string };

/** A node attribute that counts channels, rewritten with the kept count: a Reshape's target dim, a depthwise group. */
export interface AttrRewrite {
  readonly node: number;
  readonly attr: 'shape' | 'group' | 'split';
  readonly index: number;
  /** Grows when the space is coarsened. */
  unit: number;
  readonly space: number;
}

/** A graph input sliced with a space: a decoder's KV cache (state), whose heads go with the projections'. */
export interface InputSlice {
  readonly input: string;
  readonly axis: number;
  readonly space: number;
}

export interface ChannelFlow {
  readonly spaces: Spaces;
  readonly channels: ReadonlyMap<string, ChannelOf>;
  readonly steps: readonly FlowStep[];
  readonly rewrites: readonly AttrRewrite[];
  readonly inputs: readonly InputSlice[];
}

/** What the op-specific handlers (attention-flow.ts) share with the walk. */
export interface FlowContext {
  readonly spaces: Spaces;
  readonly channels: Map<string, ChannelOf>;
  readonly steps: FlowStep[];
  readonly rewrites: AttrRewrite[];
  readonly inputs: InputSlice[];
  /** Graph outputs that are state (a KV cache written back): they may shrink with their space. */
  readonly state: Set<string>;
  readonly graph: Graph;
  typeOf(v: string): TensorType | undefined;
  carry(v: string, c: ChannelOf): void;
  /** Coarsen the space of c by factor, growing the units of every value and rewrite recorded for it. */
  coarsen(space: number, factor: number, where: string): boolean;
  barAll(node: Node, why: string): void;
}

const POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool']);
const RESHAPES = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

export function channelFlow(g: Graph): ChannelFlow {
  const spaces = new Spaces();
  const channels = new Map<string, ChannelOf>();
  const steps: FlowStep[] = [];
  const rewrites: AttrRewrite[] = [];
  const inputs: InputSlice[] = [];
  const state = new Set<string>();
  const typeOf = (v: string): TensorType | undefined => g.types.get(v);
  const constants = new Map<string, ConstantDecl>(g.constants.filter((c) => (c.value || c.external) && isPlainStorage(c.type)).map((c) => [c.name, c]));
  const staticShape = (v: string): number[] | undefined => {
    const s = typeOf(v)?.shape;
    return s && s.every((d) => typeof d === 'number') ? (s as number[]) : undefined;
  };
  const slice = (constant: string, axis: number, unit: number, space: number, role: ChannelSlice['role']): ChannelSlice => {
    const s: ChannelSlice = { constant, axis, unit, space, role };
    spaces.get(space).slices.push(s);
    return s;
  };
  const carry = (v: string, c: ChannelOf): void => {
    channels.set(v, c);
    spaces.get(c.space).values.push(v);
  };
  const barAll = (node: Node, why: string): void => {
    for (const i of node.inputs) {
      const c = channels.get(i);
      if (c) spaces.bar(c.space, `${why} (${describeNode(node)})`);
    }
  };
  const coarsen = (space: number, factor: number, where: string): boolean => {
    const r = spaces.root(space);
    if (!spaces.coarsen(r, factor, where)) return false;
    for (const v of spaces.get(r).values) channels.set(v, { ...channels.get(v)!, unit: channels.get(v)!.unit * factor });
    for (const w of rewrites) if (spaces.root(w.space) === r) w.unit *= factor;
    return true;
  };
  const producer = new Map(g.nodes.flatMap((n, i) => n.outputs.map((o) => [o, i] as const)));
  const readers = new Map<string, number>();
  for (const n of g.nodes) for (const v of new Set(n.inputs)) readers.set(v, (readers.get(v) ?? 0) + 1);
  /** The Expand (node, index of the dim in its shape) that gave v its axis d, through one-reader unary ops. */
  const expandedAlong = (v: string, d: number, rank: number): { node: number; index: number } | undefined => {
    for (let at = v; readers.get(at) === 1 && !channels.has(at); ) {
      const i = producer.get(at);
      const n = i === undefined ? undefined : g.nodes[i]!;
      if (!n || n.outputs.length !== 1) return undefined;
      if (n.op === 'Expand') {
        const from = typeOf(n.inputs[0]!)?.shape ?? [];
        const target = n.attrs.shape as readonly unknown[];
        const k = d - (rank - from.length);
        return (k < 0 || from[k] === 1) && d - (rank - target.length) >= 0 ? { node: i!, index: d - (rank - target.length) } : undefined;
      }
      if (n.inputs.length !== 1 || !nodeScalarFn(n, typeOf(n.outputs[0]!)?.dtype ?? 'f32')) return undefined;
      at = n.inputs[0]!;
    }
    return undefined;
  };
  const cx: FlowContext = { spaces, channels, steps, rewrites, inputs, state, graph: g, typeOf, carry, coarsen, barAll };

  g.nodes.forEach((node, index) => {
    const out = node.outputs[0]!;
    const stem = stemOf(node, typeOf, constants);
    if (stem) {
      const x = channels.get(stem.x);
      if (x) {
        const lastAxis = (typeOf(stem.x)?.shape.length ?? 0) - 1;
        if (x.axis !== (stem.conv ? 1 : lastAxis) || (stem.conv && x.unit !== 1)) spaces.bar(x.space, `${describeNode(node)} contracts another axis`);
        else {
          slice(stem.weight, stem.inAxis, x.unit, x.space, 'in');
          spaces.get(x.space).exits.push(out);
          steps.push({ kind: 'exit', from: stem.x, node: out });
        }
      }
      const outType = typeOf(out);
      if (!outType || !isFloat(outType.dtype)) return;
      const space = spaces.create(stem.size);
      spaces.get(space).producers.push(out);
      const rows = [slice(stem.weight, stem.outAxis, 1, space, 'out')];
      if (stem.bias !== undefined) {
        const b = staticShape(stem.bias);
        const biasAxis = (b?.length ?? 0) - 1;
        if (constants.has(stem.bias) && b && b[biasAxis] === stem.size && b.slice(0, biasAxis).every((d) => d === 1 || stem.conv)) rows.push(slice(stem.bias, biasAxis, 1, space, 'out'));
        else spaces.bar(space, `the bias %${stem.bias} of ${describeNode(node)} is not a per-channel constant`);
      }
      carry(out, { space, axis: stem.conv ? 1 : outType.shape.length - 1, unit: 1 });
      steps.push({ kind: 'stem', out, rows });
      return;
    }
    const spacedIdx = node.inputs.flatMap((v, i) => (v !== '' && channels.has(v) ? [i] : []));
    if (!spacedIdx.length) return;
    const first = channels.get(node.inputs[spacedIdx[0]!]!)!;
    const outType = typeOf(out);
    const fn = outType && isFloat(outType.dtype) && node.outputs.length === 1 ? nodeScalarFn(node, outType.dtype) : undefined;
    if (fn) {
      const rank = outType!.shape.length;
      const aligned = spacedIdx.map((i) => {
        const c = channels.get(node.inputs[i]!)!;
        return { ...c, axis: c.axis + rank - (typeOf(node.inputs[i]!)?.shape.length ?? 0) };
      });
      if (aligned.some((c) => c.axis !== aligned[0]!.axis || c.unit !== first.unit)) return barAll(node, 'operands carry channels on different axes');
      let space = first.space;
      for (const c of aligned.slice(1)) space = spaces.union(space, c.space, describeNode(node));
      const { axis, unit } = aligned[0]!;
      const width = spaces.get(space).size * unit;
      const consts: StepConstant[] = [];
      for (const [i, v] of node.inputs.entries()) {
        if (spacedIdx.includes(i) || v === '') continue;
        const shape = typeOf(v)?.shape ?? [];
        const d = axis - (rank - shape.length);
        const full = d >= 0 && shape[d] !== 1;
        // A run-time tensor that has the axis only because an Expand broadcast it (an attention mask) shrinks with it.
        const expand = full && !constants.has(v) && shape[d] === width ? expandedAlong(v, d, shape.length) : undefined;
        if (expand) {
          rewrites.push({ ...expand, attr: 'shape', unit, space });
          continue;
        }
        if (full && (shape[d] !== width || !constants.has(v))) return spaces.bar(space, `%${v} has the channel axis but no channel grouping (${describeNode(node)})`);
        if (constants.has(v)) consts.push({ operand: i, constant: v, ...(full ? { slice: slice(v, d, unit, space, 'out') } : {}) });
      }
      carry(out, { space, axis, unit });
      steps.push({ kind: 'map', out, inputs: node.inputs, spaced: spacedIdx, fn, constants: consts });
      return;
    }
    if (attentionOps(cx, node, index)) return;
    if (spacedIdx.length > 1 && node.op !== 'Concat') return barAll(node, `${node.op} reads several channel groups`);
    const from = node.inputs[spacedIdx[0]!]!;
    const pass = (c: ChannelOf, keepsZero = true, zeroIf: ChannelSlice[] = []): void => {
      carry(out, c);
      steps.push({ kind: 'pass', from, out, keepsZero, zeroIf });
    };
    const onChannels = first.axis === 1 && first.unit === 1 && spacedIdx[0] === 0;
    if (POOLS.has(node.op) && onChannels) return pass(first);
    if (node.op === 'BatchNormalization' && onChannels && node.inputs.slice(1, 5).every((v) => constants.has(v)) && node.outputs.length === 1) {
      const [scale, bias, mean] = node.inputs.slice(1, 4).map((v) => slice(v, 0, 1, first.space, 'out'));
      slice(node.inputs[4]!, 0, 1, first.space, 'out');
      // (0 - mean) / sqrt(var + eps) * scale + bias is 0 when bias is, and mean or scale is.
      steps.push({ kind: 'pass', from, out, keepsZero: true, zeroIf: [bias!], zeroIfAny: [mean!, scale!] });
      carry(out, first);
      return;
    }
    if (node.op === 'Conv' && onChannels && isDepthwise(node, typeOf, spaces.get(first.space).size) && node.inputs.slice(1).every((v) => v === '' || constants.has(v))) {
      slice(node.inputs[1]!, 0, 1, first.space, 'out');
      const bias = node.inputs[2] ? [slice(node.inputs[2], 0, 1, first.space, 'out')] : [];
      rewrites.push({ node: index, attr: 'group', index: 0, unit: 1, space: first.space });
      return pass(first, true, bias);
    }
    if (node.op === 'Transpose') return pass(channelAfterTranspose(node, first, typeOf(from)?.shape.length ?? 0));
    if (RESHAPES.has(node.op)) {
      const moved = channelAfterReshape(typeOf(from)?.shape ?? [], outType?.shape ?? [], first, spaces.get(first.space).size);
      if (!moved) return spaces.bar(first.space, `${describeNode(node)} mixes the channel axis with others`);
      if (!coarsen(first.space, moved.coarsen, describeNode(node))) return;
      const c = { space: first.space, axis: moved.axis, unit: moved.unit };
      if (node.op === 'Reshape') rewrites.push({ node: index, attr: 'shape', index: moved.axis, unit: moved.unit, space: first.space });
      return pass(c);
    }
    if (node.op === 'Concat') return concat(node);
    spaces.bar(first.space, `${node.op} reads the channels (${describeNode(node)})`);
  });

  function concat(node: Node): void {
    const out = node.outputs[0]!;
    const parts = node.inputs.map((v) => channels.get(v));
    const rank = typeOf(out)?.shape.length ?? 0;
    const axis = Number(node.attrs.axis ?? 0) < 0 ? Number(node.attrs.axis) + rank : Number(node.attrs.axis ?? 0);
    if (parts.some((p) => !p || p.axis !== axis || p.unit !== 1)) return barAll(node, 'a concatenation along another axis, or of tensors without channel groups');
    let offset = 0;
    const layout = parts.map((p) => {
      const at = { space: p!.space, offset, scale: 1 };
      offset += spaces.get(p!.space).size;
      return at;
    });
    const space = spaces.create(offset, layout);
    carry(out, { space, axis, unit: 1 });
    steps.push({ kind: 'concat', from: node.inputs, out });
  }

  for (const o of g.outputs) {
    const c = channels.get(o);
    if (c && !state.has(o)) spaces.bar(c.space, `%${o} is a graph output`);
  }
  barShared(g, spaces);
  return { spaces, channels, steps, rewrites, inputs };
}

interface Stem {
  readonly x: string;
  readonly weight: string;
  readonly bias?: string;
  readonly size: number;
  readonly outAxis: number;
  readonly inAxis: number;
  readonly conv: boolean;
}

function stemOf(node: Node, typeOf: (v: string) => TensorType | undefined, constants: ReadonlyMap<string, ConstantDecl>): Stem | undefined {
  const ops = matmulOperands(node, typeOf);
  if (ops) {
    if (!constants.has(ops.w)) return undefined;
    return { x: ops.x, weight: ops.w, ...(ops.bias ? { bias: ops.bias } : {}), size: ops.m, outAxis: ops.transposed ? 1 : 0, inAxis: ops.transposed ? 0 : 1, conv: false };
  }
  if ((node.op !== 'Conv' && node.op !== 'ConvTranspose') || Number(node.attrs.group ?? 1) !== 1) return undefined;
  const [x, w, b] = node.inputs;
  const shape = w ? typeOf(w)?.shape : undefined;
  if (!x || !w || !constants.has(w) || !shape || typeof shape[0] !== 'number' || typeof shape[1] !== 'number') return undefined;
  const t = node.op === 'ConvTranspose';
  return { x, weight: w, ...(b ? { bias: b } : {}), size: t ? shape[1] : shape[0], outAxis: t ? 1 : 0, inAxis: t ? 0 : 1, conv: true };
}

/** A Conv with one filter per input channel (group = channels, weight [C, 1, ...]). */
function isDepthwise(node: Node, typeOf: (v: string) => TensorType | undefined, channels: number): boolean {
  const w = typeOf(node.inputs[1] ?? '')?.shape;
  return Number(node.attrs.group ?? 1) === channels && channels > 1 && w?.[0] === channels && w[1] === 1;
}

/**
 * A constant sliced for a space must be read by one node only, and each of its axes sliced for one space only (a
 * stem's weight is sliced twice: its rows for its output's space, its columns for its input's): papers.md §1.2
 * step 10d, weight sharing such as a tied embedding bars the groups.
 */
function barShared(g: Graph, spaces: Spaces): void {
  const reads = new Map<string, number>();
  for (const n of g.nodes) for (const v of new Set(n.inputs)) reads.set(v, (reads.get(v) ?? 0) + 1);
  const sliced = new Map<string, number>();
  const key = (s: ChannelSlice): string => `${s.constant}\u0000${s.axis}`;
  for (const r of spaces.roots()) for (const s of spaces.get(r).slices) sliced.set(key(s), (sliced.get(key(s)) ?? 0) + 1);
  for (const r of spaces.roots())
    for (const s of spaces.get(r).slices)
      if ((reads.get(s.constant) ?? 0) > 1 || sliced.get(key(s))! > 1 || g.outputs.includes(s.constant)) spaces.bar(r, `%${s.constant} is shared`);
}
