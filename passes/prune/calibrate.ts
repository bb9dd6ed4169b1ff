// Calibration for structured pruning (--calibrate): the activations that reach each group's consumers, measured by
// the reference interpreter on sample inputs. They give FLAP's two parts. Bias compensation: a removed channel's
// mean contribution, W[:, c] * mean(x_c), moves into the consumer's bias, so what the pruned model loses is only
// the channel's fluctuation around its mean. Scores, accordingly: the fluctuation metric, the channel's standard
// deviation over the samples times the norm of the consumer weights that read it (a channel that never changes
// costs nothing to remove).
import { type Graph, type Node, type Tensor, evaluateAll, makeTensor, matmulOperands } from '../../ir/index.js';
import type { ChannelFlow } from './channel-flow.js';

/** Per exit value: per channel and position within the channel's unit, the mean and mean square of the activation. */
export interface ExitStats {
  readonly mean: Float64Array;
  readonly meanSquare: Float64Array;
}

/** Activation statistics at every exit of the flow, over the samples. */
export function exitStats(g: Graph, flow: ChannelFlow, samples: readonly Record<string, Tensor>[]): Map<string, ExitStats> {
  const exits = flow.steps.flatMap((s) => (s.kind === 'exit' ? [s.from] : []));
  const sums = new Map<string, { sum: Float64Array; sq: Float64Array; count: number }>();
  for (const sample of samples) {
    const env = evaluateAll(g, sample);
    for (const v of new Set(exits)) {
      const t = env.get(v)!;
      const c = flow.channels.get(v)!;
      const width = t.shape[c.axis]!;
      const inner = t.shape.slice(c.axis + 1).reduce((a, b) => a * b, 1);
      const acc = sums.get(v) ?? { sum: new Float64Array(width), sq: new Float64Array(width), count: 0 };
      for (let i = 0; i < t.data.length; i++) {
        const k = Math.floor(i / inner) % width;
        acc.sum[k] += t.data[i]!;
        acc.sq[k] += t.data[i]! * t.data[i]!;
      }
      acc.count += t.data.length / width;
      sums.set(v, acc);
    }
  }
  return new Map([...sums].map(([v, s]) => [v, { mean: s.sum.map((x) => x / s.count), meanSquare: s.sq.map((x) => x / s.count) }]));
}

/** The consumer's weight as A[o][k] (output o, input position k along the exit's channel axis; a conv's kernel summed). */
function consumerWeight(g: Graph, node: Node, load: (c: string) => Tensor): { rows: number; cols: number; at: (o: number, k: number) => number } | undefined {
  const ops = matmulOperands(node, (v) => g.types.get(v));
  if (ops) {
    const w = load(ops.w);
    return { rows: ops.m, cols: ops.k, at: (o, k) => w.data[ops.transposed ? k * ops.m + o : o * ops.k + k]! };
  }
  if (node.op !== 'Conv') return undefined;
  const w = load(node.inputs[1]!);
  const [outC, inC] = w.shape as [number, number];
  const spatial = w.data.length / (outC * inC);
  return { rows: outC, cols: inC, at: (o, k) => w.data.slice((o * inC + k) * spatial, (o * inC + k + 1) * spatial).reduce((a, b) => a + b, 0) };
}

/** Per channel of root r: sum over its exits of std(x_c) * ||W[:, c]|| (a channel spanning `unit` positions adds them). */
export function calibratedScores(g: Graph, flow: ChannelFlow, r: number, stats: ReadonlyMap<string, ExitStats>, load: (c: string) => Tensor): Float64Array {
  const size = flow.spaces.get(r).size;
  const scores = new Float64Array(size);
  for (const s of flow.steps) {
    if (s.kind !== 'exit' || flow.spaces.root(flow.channels.get(s.from)!.space) !== r) continue;
    const w = consumerWeight(g, g.nodes.find((n) => n.outputs[0] === s.node)!, load);
    const st = stats.get(s.from);
    if (!w || !st) continue;
    const unit = w.cols / size;
    for (let k = 0; k < w.cols; k++) {
      let col = 0;
      for (let o = 0; o < w.rows; o++) col += w.at(o, k) ** 2;
      const variance = Math.max(0, st.meanSquare[k]! - st.mean[k]! ** 2);
      scores[Math.floor(k / unit)] += Math.sqrt(col * variance);
    }
  }
  return scores;
}

/**
 * The consumers' biases with the removed channels' mean contributions added: bias constant name -> new values. A
 * consumer without a per-output constant bias (a Gemm's C, a Conv's bias, or a per-channel constant added right
 * after a MatMul) is left as it is.
 */
export function compensatedBiases(g: Graph, flow: ChannelFlow, removed: ReadonlyMap<number, readonly number[]>, stats: ReadonlyMap<string, ExitStats>, load: (c: string) => Tensor): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const s of flow.steps) {
    if (s.kind !== 'exit') continue;
    const r = flow.spaces.root(flow.channels.get(s.from)!.space);
    const gone = removed.get(r);
    const st = stats.get(s.from);
    const node = g.nodes.find((n) => n.outputs[0] === s.node)!;
    const w = consumerWeight(g, node, load);
    const bias = biasOf(g, node);
    if (!gone?.length || !st || !w || !bias) continue;
    const t = out.get(bias) ?? load(bias);
    if (t.data.length !== w.rows) continue;
    const unit = w.cols / flow.spaces.get(r).size;
    const next = Float64Array.from(t.data);
    for (const c of gone) for (let u = 0; u < unit; u++) for (let o = 0; o < w.rows; o++) next[o] += w.at(o, c * unit + u) * st.mean[c * unit + u]!;
    out.set(bias, makeTensor(t.dtype, t.shape, next));
  }
  return out;
}

/** The constant holding one bias per output of a stem: Gemm's C, Conv's bias, or the constant of the Add after it. */
function biasOf(g: Graph, node: Node): string | undefined {
  const constants = new Set(g.constants.map((c) => c.name));
  const direct = node.op === 'Gemm' ? node.inputs[2] : node.op === 'Conv' ? node.inputs[2] : undefined;
  if (direct && constants.has(direct)) return direct;
  const readers = g.nodes.filter((n) => n.inputs.includes(node.outputs[0]!));
  const add = readers.length === 1 && readers[0]!.op === 'Add' ? readers[0]! : undefined;
  return add?.inputs.find((v) => v !== node.outputs[0] && constants.has(v));
}
