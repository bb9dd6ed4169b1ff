// Symbols nobody bounded (an exporter's dim_param compiled without --dim) arrive as 'any size' (1..65536), and
// memory is planned for the upper bounds: an attention matrix [batch,heads,seq,seq] at 65536 holds more than any
// GPU binding. This pass narrows each such symbol to the largest power of two at which every value of the graph
// still fits one storage binding (the target's maxStorageBufferBindingSize, 128 MiB by default), the same cap
// for all unbounded symbols. Symbols given bounds (--dim name=lo..hi, `symbol s in lo..hi`) are kept as given:
// when they do not fit, the plan's limit check refuses the compile and names the limit. The chosen ranges are in
// the artifact's manifest and `kiln inspect`.
import { type Graph, type SymbolBound, UNBOUNDED_SYMBOL, dimRange, storageBytes } from '../ir/index.js';
import { EXACT, type Pass, PassOptionError, bump, onlyKeys } from './pass.js';
import { DEFAULT_MAX_BINDING_BYTES } from './split-oversized-weights.js';

export interface FitSymbolBoundsOptions {
  /** Largest tensor one binding may hold (default: the target's maxStorageBufferBindingSize, else 128 MiB). */
  readonly maxBindingBytes?: number;
}

const isUnbounded = (b: SymbolBound): boolean => b.min === UNBOUNDED_SYMBOL.min && b.max === UNBOUNDED_SYMBOL.max;

/** The bytes of the largest value when the unbounded symbols are capped at `cap`. */
function largestValueBytes(g: Graph, bounds: (s: string) => SymbolBound): number {
  let most = 0;
  for (const t of g.types.values()) {
    const count = t.shape.reduce<number>((n, d) => n * dimRange(d, bounds)[1], 1);
    most = Math.max(most, storageBytes(t.dtype, count));
  }
  return most;
}

export function fitSymbolBounds(g: Graph, maxBytes: number): { graph: Graph; cap?: number } {
  const open = Object.entries(g.symbols).filter(([, b]) => isUnbounded(b)).map(([name]) => name);
  if (open.length === 0) return { graph: g };
  const boundsAt = (cap: number) => (s: string): SymbolBound => (open.includes(s) ? { min: 1, max: cap } : g.symbols[s]!);
  let cap = UNBOUNDED_SYMBOL.max;
  while (cap > 1 && largestValueBytes(g, boundsAt(cap)) > maxBytes) cap /= 2;
  if (cap === UNBOUNDED_SYMBOL.max) return { graph: g };
  const symbols = Object.fromEntries(Object.entries(g.symbols).map(([k, b]) => [k, open.includes(k) ? { min: 1, max: cap } : b]));
  return { graph: { ...g, symbols }, cap };
}

export const fitSymbolBoundsPass: Pass<FitSymbolBoundsOptions> = {
  name: 'fit-symbol-bounds',
  summary: 'Narrow symbols without bounds to the largest power of two at which every value fits one storage binding.',
  tolerance: EXACT,
  options(raw) {
    onlyKeys('fit-symbol-bounds', raw, ['maxBindingBytes']);
    const m = raw.maxBindingBytes;
    if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 4)) throw new PassOptionError(`fit-symbol-bounds: maxBindingBytes must be an integer >= 4, got ${String(m)}`);
    return m === undefined ? {} : { maxBindingBytes: m };
  },
  run(g, cx) {
    const maxBytes = cx.options.maxBindingBytes ?? cx.target.limits.maxStorageBufferBindingSize ?? DEFAULT_MAX_BINDING_BYTES;
    const { graph, cap } = fitSymbolBounds(g, maxBytes);
    if (cap !== undefined) bump(cx, `unbounded-symbols-capped-at-${cap}`);
    return graph;
  },
};
