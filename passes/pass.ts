// A pass is a pure, named Graph -> Graph function. The name is kebab-case and is also the CLI flag value and
// the dump file name. Each pass declares how closely it preserves semantics; the property tests hold it to that.
import type { Graph } from '../ir/index.js';

/**
 * Exact: interp(pass(g)) is bit-identical to interp(g). Bounded: within rtol/atol (quantization). Lossy: the pass
 * changes the model on purpose (pruning); its own properties say what it keeps (see `note`).
 */
export type Tolerance =
  | { readonly kind: 'exact' }
  | { readonly kind: 'bounded'; readonly rtol: number; readonly atol: number }
  | { readonly kind: 'lossy'; readonly note: string };

export interface PassContext {
  /** Counters a pass reports (e.g. nodes folded); the manager collects them per pass. */
  readonly stats: Map<string, number>;
  /** Pass options from the CLI or pipeline, by name. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface Pass {
  readonly name: string;
  readonly summary: string;
  readonly tolerance: Tolerance;
  readonly run: (g: Graph, cx: PassContext) => Graph;
}

export const EXACT: Tolerance = { kind: 'exact' };

export function bump(cx: PassContext, stat: string, by = 1): void {
  cx.stats.set(stat, (cx.stats.get(stat) ?? 0) + by);
}
