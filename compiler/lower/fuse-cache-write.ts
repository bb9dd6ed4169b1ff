// KV-cache writes folded into the attention that reads them. A decoder layer writes its step's keys and values
// into the caches (two CacheWrite nodes, in place) and then attends over the updated caches; as three dispatches
// the writes are two of a layer's dispatches for a few kilobytes each, and on lavapipe a dispatch of any size
// costs tens of microseconds (24 of a GPT-2 decode step's 118 were cache writes, 1.6-3.9 ms of it). Folded, the
// attention kernel reads keys at or past pos from the new rows, the older ones from the cache, and writes the new
// rows into the cache itself: the cache rows it writes are ones no workgroup of that dispatch reads.
// A pair folds when both writes take the attention's pos and len, nothing but the attention reads their results
// (their results are the caches' memory, so a state output counts as no reader), the new rows are as many as the
// query rows, and the caches and rows are f32 (one element per word: a workgroup's row write never shares a word
// with another's).
import { type Graph, type Node, consumers } from '../../ir/index.js';

/** A cache write the attention kernel does: `rows` [T, H, D] into `cache` [S, H, D] at pos. */
export interface FoldedWrite {
  readonly cache: string;
  readonly rows: string;
}

export interface CacheFold {
  readonly k: FoldedWrite;
  readonly v: FoldedWrite;
  /** The CacheWrite nodes, for labels. */
  readonly nodes: readonly [Node, Node];
}

export interface CacheFoldPlan {
  /** Attention node -> the writes its kernel does. */
  readonly folds: ReadonlyMap<Node, CacheFold>;
  /** CacheWrite node -> the attention that does its write. */
  readonly folded: ReadonlyMap<Node, Node>;
}

export function planCacheFolds(g: Graph): CacheFoldPlan {
  const uses = consumers(g);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const folds = new Map<Node, CacheFold>();
  const folded = new Map<Node, Node>();
  for (const node of g.nodes) {
    if (node.op !== 'Attention') continue;
    const [q, k, v, pos, len] = node.inputs as [string, string, string, string | undefined, string];
    if (!pos) continue;
    const write = (value: string): FoldedWrite | undefined => {
      const w = producer.get(value);
      if (!w || w.op !== 'CacheWrite' || folded.has(w)) return undefined;
      const [cache, rows, wPos, wLen] = w.inputs as [string, string, string, string];
      if (wPos !== pos || wLen !== len) return undefined;
      if ((uses.get(value) ?? []).some((r) => r !== node)) return undefined;
      if (g.types.get(cache)?.dtype !== 'f32' || g.types.get(rows)?.dtype !== 'f32') return undefined;
      // Row t of the new rows is written by the workgroups of query row t.
      if (g.types.get(rows)?.shape[0] !== g.types.get(q)?.shape[0]) return undefined;
      return { cache, rows };
    };
    const kw = write(k);
    const vw = k === v ? undefined : write(v);
    if (!kw || !vw) continue;
    const pair = [producer.get(k)!, producer.get(v)!] as const;
    folds.set(node, { k: kw, v: vw, nodes: pair });
    for (const w of pair) folded.set(w, node);
  }
  return { folds, folded };
}
