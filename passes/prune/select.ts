// Training-free choice of the channels to remove at a ratio (papers.md §1.3: HESSO's magnitude criteria, the
// ones that need no gradients). A channel's score is the norm of everything that produces it: its rows of the
// stems' weights, its bias and norm entries (the space's 'out' slices), divided by how many elements that is, so
// that groups of different widths compare (avg_magnitude). Per layer, each prunable group loses its lowest-scoring
// `ratio`; globally, one ranking over all groups' scores decides, with a floor on what each group keeps. Kept counts
// are rounded up to `multiple` (kernel-friendly widths), and channels that are exactly zero where consumed go
// whatever the ratio.
import type { Tensor } from '../../ir/index.js';
import type { ChannelFlow } from './channel-flow.js';

export interface SelectOptions {
  readonly ratio: number;
  /** The ratio for groups of attention heads (default: ratio). */
  readonly heads?: number;
  readonly scope: 'layer' | 'global';
  readonly floor: number;
  readonly multiple: number;
  readonly norm: 'l1' | 'l2';
}

/** Per channel of a root: the sum of |v| (l1) or v^2 (l2) over its 'out' slices' elements, and their count. */
function sums(flow: ChannelFlow, r: number, load: (constant: string) => Tensor, norm: SelectOptions['norm']): { sum: Float64Array; count: Float64Array } {
  const rec = flow.spaces.get(r);
  const sum = new Float64Array(rec.size);
  const count = new Float64Array(rec.size);
  for (const s of rec.slices) {
    if (s.role !== 'out') continue;
    const t = load(s.constant);
    const inner = t.shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
    const extent = t.shape[s.axis]!;
    for (let i = 0; i < t.data.length; i++) {
      const c = Math.floor((Math.floor(i / inner) % extent) / s.unit);
      const v = Math.abs(t.data[i]!);
      sum[c] += norm === 'l1' ? v : v * v;
      count[c]! += 1;
    }
  }
  return { sum, count };
}

/**
 * Per channel of root r: the mean |v| (l1) or root-mean-square (l2) of the elements that produce it: its own
 * 'out' slices and, for the part of a split projection (fused QKV), the projection's rows at the part's offset.
 */
export function channelScores(flow: ChannelFlow, r: number, load: (constant: string) => Tensor, norm: SelectOptions['norm']): Float64Array {
  const { spaces } = flow;
  const own = sums(flow, r, load, norm);
  for (const a of spaces.roots())
    for (const p of spaces.get(a).parts ?? []) {
      if (spaces.root(p.space) !== r) continue;
      const aux = sums(flow, a, load, norm);
      for (let c = 0; c < own.sum.length; c++)
        for (let i = 0; i < p.scale; i++) {
          own.sum[c] += aux.sum[p.offset + c * p.scale + i]!;
          own.count[c]! += aux.count[p.offset + c * p.scale + i]!;
        }
    }
  const { sum, count } = own;
  return sum.map((v, c) => (count[c] ? (norm === 'l1' ? v / count[c]! : Math.sqrt(v / count[c]!)) : 0));
}

/** Channels in increasing score, ties by index. */
const ranked = (scores: Float64Array): number[] => Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b);

/** The smallest multiple of m at least n (and at most size, which callers check m divides). */
const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** The channels each root loses: the zero ones, then the lowest-scoring to the ratio, kept counts rounded up. */
export function selectChannels(
  flow: ChannelFlow,
  roots: readonly number[],
  zeros: ReadonlyMap<number, readonly number[]>,
  load: (constant: string) => Tensor,
  o: SelectOptions,
  scoreOf: (r: number) => Float64Array = (r) => channelScores(flow, r, load, o.norm),
): Map<number, number[]> {
  const size = (r: number): number => flow.spaces.get(r).size;
  const scores = new Map(roots.map((r) => [r, Float64Array.from(scoreOf(r))]));
  for (const [r, gone] of zeros) for (const c of gone) scores.get(r)![c] = -1; // exact zeros rank first
  const keepAtLeast = (r: number): number => Math.max(1, Math.ceil(o.floor * size(r)));
  const target = new Map<number, number>();
  const isHeads = (r: number): boolean => flow.spaces.get(r).heads === true;
  const ratioOf = (r: number): number => (isHeads(r) ? (o.heads ?? o.ratio) : o.ratio);
  if (o.scope === 'layer') for (const r of roots) target.set(r, Math.floor(ratioOf(r) * size(r)));
  else {
    const all = roots.flatMap((r) => Array.from(scores.get(r)!, (s, c) => ({ r, c, s })));
    all.sort((a, b) => a.s - b.s || a.r - b.r || a.c - b.c);
    let budget = Math.floor(o.ratio * all.length);
    for (const e of all) {
      if (budget === 0) break;
      const t = target.get(e.r) ?? 0;
      if (size(e.r) - t <= keepAtLeast(e.r)) continue;
      target.set(e.r, t + 1);
      budget--;
    }
  }
  const out = new Map<number, number[]>();
  for (const r of roots) {
    const z = zeros.get(r)?.length ?? 0;
    const want = Math.max(target.get(r) ?? 0, z);
    // Removing exact zeros is free: only a group pruned past them keeps the floor and the multiple.
    // Heads are whole already: the multiple is for channel widths.
    const multiple = isHeads(r) ? 1 : o.multiple;
    // A group whose every channel is zero may go whole (the caller erases its operators, or keeps one channel).
    const kept = want > z ? Math.min(size(r), roundUp(Math.max(size(r) - want, keepAtLeast(r)), multiple)) : size(r) - z;
    const gone = ranked(scores.get(r)!).slice(0, size(r) - kept);
    if (gone.length) out.set(r, gone.sort((a, b) => a - b));
  }
  return out;
}
