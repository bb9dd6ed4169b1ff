// `kiln groups <model>`: the channel groups structured pruning sees (passes/prune/channel-flow.ts) after the
// default pipeline: per group its channels, whether it may be pruned (or the barrier that forbids it), how many of
// its channels are exactly zero where consumed (what --prune 0 removes), the stems that produce it, every constant
// slice that goes with its channels, and the consumers whose input columns it ends in.
import { DEFAULT_PIPELINE, channelFlow, prunableRoots, removableChannels, runPipeline } from '../../passes/index.js';
import { type Graph, type Tensor, constantValue } from '../../ir/index.js';
import type { Program } from '../compile.js';
import { UsageError } from './errors.js';
import type { Output } from './ir-commands.js';

export interface GroupRow {
  readonly group: number;
  readonly channels: number;
  readonly prunable: boolean;
  /** Exactly-zero channels (removed by --prune 0). */
  readonly zero: number;
  readonly producers: readonly string[];
  readonly slices: readonly string[];
  readonly exits: readonly string[];
  readonly barriers: readonly string[];
  /** A concatenation's parts: group numbers at channel offsets. */
  readonly parts?: readonly string[];
}

export function channelGroups(g: Graph): GroupRow[] {
  const flow = channelFlow(g);
  const byName = new Map(g.constants.map((c) => [c.name, c]));
  const load = (name: string): Tensor => constantValue(byName.get(name)!);
  const prunable = prunableRoots(flow);
  const zeros = removableChannels(flow, load);
  const { spaces } = flow;
  return spaces.roots().map((r) => {
    const s = spaces.get(r);
    return {
      group: r,
      channels: s.size,
      prunable: prunable.has(r),
      zero: zeros.get(r)?.length ?? 0,
      producers: s.producers,
      slices: s.slices.map((x) => `${x.constant}[axis ${x.axis}${x.unit > 1 ? ` x${x.unit}` : ''}${x.role === 'in' ? ', in' : ''}]`),
      exits: s.exits,
      barriers: s.barriers,
      ...(s.parts ? { parts: s.parts.map((p) => `${spaces.root(p.space)}@${p.offset}`) } : {}),
    };
  });
}

export function printGroups(program: Program, opts: { json?: boolean; entry?: string }, io: Output): number {
  const names = Object.keys(program.entries);
  const name = opts.entry ?? names[0]!;
  const entry = program.entries[name];
  if (!entry) throw new UsageError(`--entry ${name}: no such entry (entries: ${names.join(', ')})`);
  const rows = channelGroups(runPipeline(entry.graph, DEFAULT_PIPELINE).graph);
  if (opts.json) {
    io.out(JSON.stringify({ entry: name, groups: rows }));
    return 0;
  }
  io.out(`channel groups of entry '${name}' (${rows.filter((r) => r.prunable).length} of ${rows.length} prunable)`);
  io.out(['group', 'channels', 'status', 'zero', 'produced by', 'slices', 'consumed by'].join('\t'));
  for (const r of rows) {
    const status = r.prunable ? 'prunable' : r.parts ? `concat of ${r.parts.join(' ')}` : `barred: ${r.barriers[0] ?? 'not consumed'}`;
    const list = (xs: readonly string[]): string => (xs.length ? xs.map((x) => (x.includes('[') ? x : `%${x}`)).join(' ') : '-');
    io.out([r.group, r.channels, status, r.zero, list(r.producers), list(r.slices), list(r.exits)].join('\t'));
  }
  return 0;
}
