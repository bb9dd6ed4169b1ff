// prune-structured: OTOv3-style structured pruning (papers.md §1) of an imported graph. The dependency analysis
// (prune/channel-flow.ts) groups channels that must go together; this pass removes the groups whose channels are
// exactly zero where they are consumed (zero-invariant groups, prune/channel-zeros.ts) by slicing every weight,
// bias and norm entry of the group and the consumers' input columns (prune/channel-slice.ts), so every later
// kernel is smaller. Removing a zero group drops only terms w * 0: the interpreter's outputs stay bit-identical
// (for finite inputs). A group whose every channel is zero keeps one channel (erasing the operator is not done).
import { type Tensor, loadExternal } from '../ir/index.js';
import { inferShapes } from './infer-shapes.js';
import { type Pass, bump, onlyKeys } from './pass.js';
import { channelFlow } from './prune/channel-flow.js';
import { keptChannels, sliceGraph } from './prune/channel-slice.js';
import { removableChannels } from './prune/channel-zeros.js';

export type PruneStructuredOptions = Readonly<Record<string, never>>;

export const pruneStructured: Pass<PruneStructuredOptions> = {
  name: 'prune-structured',
  summary: 'Remove channel groups (stem rows with their biases, norm entries and consumer columns) that are exactly zero.',
  tolerance: { kind: 'exact' },
  options: (raw) => (onlyKeys('prune-structured', raw, []), {}),
  run(g, cx) {
    const flow = channelFlow(g);
    const cache = new Map<string, Tensor>();
    const byName = new Map(g.constants.map((c) => [c.name, c]));
    const load = (name: string): Tensor => {
      let t = cache.get(name);
      if (!t) {
        const c = byName.get(name)!;
        t = c.value ?? loadExternal(c.external!, c.type.dtype, c.type.shape as number[]);
        cache.set(name, t);
      }
      return t;
    };
    const removed = removableChannels(flow, load);
    for (const [r, gone] of removed) {
      const size = flow.spaces.get(r).size;
      if (gone.length === size) removed.set(r, gone.slice(1));
      bump(cx, 'channels-removed', removed.get(r)!.length);
    }
    for (const [r, gone] of [...removed]) if (!gone.length) removed.delete(r);
    if (!removed.size) return g;
    bump(cx, 'groups-pruned', removed.size);
    const sliced = sliceGraph(g, flow, keptChannels(flow, removed), load);
    return inferShapes.run(sliced, { ...cx, options: undefined });
  },
};
