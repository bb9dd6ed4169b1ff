// What structured pruning removed, for the manifest and `kiln inspect`: per group that lost channels (or heads)
// its weights and widths before and after; per weight that shrank its shape, parameters and multiply-add FLOPs of
// the matmuls and convolutions reading it, before and after. Computed from one entry's graph just before and just
// after the prune-structured step (every entry loses the same channels; FLOPs are that entry's). An erased group
// has width 0 after, and its weights an empty shape.
import { type Graph, matmulOperands } from '../ir/index.js';
import { channelFlow, prunableRoots } from '../passes/index.js';
import type { Manifest } from '../runtime/plan.js';

export type PruneReport = NonNullable<Manifest['pruning']>;

const numel = (shape: readonly (number | string)[]): number | null => (shape.every((d) => typeof d === 'number') ? (shape as number[]).reduce((a, b) => a * b, 1) : null);

/** FLOPs (2 per multiply-add) of the stems that read `weight` in g, or null when an output size is symbolic. */
function weightFlops(g: Graph, weight: string): number | null {
  let total = 0;
  for (const n of g.nodes) {
    const ops = matmulOperands(n, (v) => g.types.get(v));
    const isConv = (n.op === 'Conv' || n.op === 'ConvTranspose') && n.inputs[1] === weight;
    if (!(ops?.w === weight) && !isConv) continue;
    const out = numel(g.types.get(n.outputs[0]!)?.shape ?? []);
    const w = numel(g.types.get(weight)?.shape ?? []);
    if (out === null || w === null) return null;
    const outChannels = Number(g.types.get(weight)!.shape[n.op === 'ConvTranspose' ? 1 : 0]);
    // Each output element is a dot product over the weight's share of one output channel (a matmul's K).
    const k = ops ? ops.k : w / outChannels;
    total += 2 * out * k;
  }
  return total;
}

export function pruneReport(entry: string, before: Graph, after: Graph): PruneReport | undefined {
  const shapes = new Map(after.constants.map((c) => [c.name, c.type.shape]));
  // A weight gone from the graph was erased with its operator: its shape after is empty, its FLOPs 0.
  const layers = before.constants.flatMap((c) => {
    const now = shapes.get(c.name);
    if (now && now.length === c.type.shape.length && now.every((d, i) => d === c.type.shape[i])) return [];
    return [{ weight: c.name, before: c.type.shape as number[], after: (now ?? []) as number[], flopsBefore: weightFlops(before, c.name), flopsAfter: now ? weightFlops(after, c.name) : 0 }];
  });
  if (!layers.length) return undefined;
  const flow = channelFlow(before);
  const groups = [...prunableRoots(flow)].flatMap((r) => {
    const rec = flow.spaces.get(r);
    const out = rec.slices.filter((s) => s.role === 'out');
    const probe = out[0];
    if (!probe) return [];
    const shape = shapes.get(probe.constant);
    const kept = shape ? Number(shape[probe.axis]) / probe.unit : 0;
    if (kept === rec.size) return [];
    return [{ weights: [...new Set(out.map((s) => s.constant))], kind: rec.heads ? ('heads' as const) : ('channels' as const), before: rec.size, after: kept }];
  });
  return { entry, groups, layers };
}
