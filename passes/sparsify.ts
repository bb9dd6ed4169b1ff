// sparsify: magnitude pruning of matmul weights (see matmul-weights.ts) to a target sparsity, the first step of
// Flash-LLM-style sparse inference. Per layer (default), each weight loses its smallest-magnitude fraction; global
// ranks all weights' magnitudes together, with a per-layer floor on the density kept so no layer is emptied.
// Ties break by index, so the result is deterministic. Weights still in their checkpoint file are loaded (the
// pruned values become inline constants). Whether a pruned weight then gets a sparse kernel is the compiler's
// choice of encode-sparse-weights (by a cost model); this pass only zeroes.
import { type ConstantDecl, type Tensor, constantValue, makeTensor, updateGraph } from '../ir/index.js';
import { matmulWeights } from './matmul-weights.js';
import { type Pass, bump, onlyKeys } from './pass.js';

export interface SparsifyOptions {
  /** Fraction of each eligible weight's elements to zero, 0..1. */
  readonly sparsity: number;
  /** 'layer' (default): every weight to the target; 'global': one magnitude threshold over all weights. */
  readonly scope?: 'layer' | 'global';
  /** Global scope: the least fraction of each weight kept non-zero (default 0.02). */
  readonly floor?: number;
}

export class SparsifyError extends Error {
  override name = 'SparsifyError';
}

function readOptions(raw: Readonly<Record<string, unknown>>): SparsifyOptions {
  onlyKeys('sparsify', raw, ['sparsity', 'scope', 'floor']);
  const sparsity = raw.sparsity === undefined ? 0 : Number(raw.sparsity);
  if (!(sparsity >= 0 && sparsity <= 1)) throw new SparsifyError(`sparsity must be between 0 and 1, got ${String(raw.sparsity)}`);
  const floor = raw.floor === undefined ? 0.02 : Number(raw.floor);
  if (!(floor >= 0 && floor <= 1)) throw new SparsifyError(`the per-layer density floor must be between 0 and 1, got ${String(raw.floor)}`);
  const scope = raw.scope ?? 'layer';
  if (scope !== 'layer' && scope !== 'global') throw new SparsifyError(`sparsity scope must be 'layer' or 'global', got '${String(scope)}'`);
  return { sparsity, scope, floor };
}

/**
 * values with its `count` smallest-magnitude elements set to zero (existing zeros count towards it); among equal
 * magnitudes the lower indices go first. The threshold comes from a native numeric sort of the magnitudes, so a
 * multi-million-element weight prunes in a fraction of a second.
 */
export function pruneSmallest(values: Float64Array, count: number): Float64Array {
  const out = Float64Array.from(values);
  const n = Math.min(count, values.length);
  if (n <= 0) return out;
  const mags = new Float64Array(values.length);
  for (let i = 0; i < mags.length; i++) mags[i] = Math.abs(values[i]!);
  const sorted = Float64Array.from(mags).sort();
  const threshold = sorted[n - 1]!;
  // Everything strictly below the threshold goes; of the elements at it, the first ones by index fill the count.
  let below = 0;
  for (let i = 0; i < mags.length; i++) if (mags[i]! < threshold) below++;
  let ties = n - below;
  for (let i = 0; i < mags.length; i++) {
    if (mags[i]! < threshold) out[i] = 0;
    else if (mags[i] === threshold && ties > 0) {
      out[i] = 0;
      ties--;
    }
  }
  return out;
}

/** The number of elements each weight should lose under one global magnitude threshold with a density floor. */
function globalCounts(weights: readonly Float64Array[], sparsity: number, floor: number): number[] {
  const total = weights.reduce((s, w) => s + w.length, 0);
  const mags = new Float32Array(total);
  let at = 0;
  for (const w of weights) for (let i = 0; i < w.length; i++) mags[at++] = Math.abs(w[i]!);
  mags.sort();
  const cut = Math.floor(sparsity * total);
  if (cut === 0) return weights.map(() => 0);
  const threshold = mags[cut - 1]!;
  // Everything below the threshold goes; of the elements at it, only as many as make up the cut, taken weight by
  // weight in constant order (and by index within a weight, as pruneSmallest does), so ties never over-prune.
  const below = weights.map((w) => w.reduce((n, v) => n + (Math.fround(Math.abs(v)) < threshold ? 1 : 0), 0));
  const atThreshold = weights.map((w) => w.reduce((n, v) => n + (Math.fround(Math.abs(v)) === threshold ? 1 : 0), 0));
  let ties = cut - below.reduce((a, b) => a + b, 0);
  return weights.map((w, i) => {
    const take = Math.min(atThreshold[i]!, ties);
    ties -= take;
    return Math.min(below[i]! + take, Math.floor((1 - floor) * w.length));
  });
}

export const sparsify: Pass<SparsifyOptions> = {
  name: 'sparsify',
  summary: 'Magnitude-prune MatMul/Gemm weights to a target sparsity (options: sparsity 0..1, scope layer|global, floor).',
  tolerance: { kind: 'lossy', note: 'zeroes the smallest-magnitude weights; the kept weights are unchanged' },
  options: readOptions,
  run(g, cx) {
    const opts = cx.options;
    const weights = matmulWeights(g);
    if (!weights.length) return g;
    const values = weights.map(({ constant: c }) => constantValue(c).data);
    const counts =
      opts.scope === 'global' ? globalCounts(values, opts.sparsity, opts.floor!) : values.map((v) => Math.round(opts.sparsity * v.length));
    const pruned = new Map<string, ConstantDecl>();
    weights.forEach(({ constant: c }, i) => {
      const data = pruneSmallest(values[i]!, counts[i]!);
      const value: Tensor = makeTensor(c.type.dtype, c.type.shape as number[], data);
      const { external: _dropped, ...rest } = c;
      pruned.set(c.name, { ...rest, value });
      bump(cx, 'weights-pruned');
      bump(cx, 'elements-zeroed', counts[i]!);
    });
    return updateGraph(g, { constants: g.constants.map((c) => pruned.get(c.name) ?? c) });
  },
};
