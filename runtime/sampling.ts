// Choosing the next token from a step's logits. Temperature 0 is greedy (the argmax the artifact computes on the
// GPU, so only 4 bytes come back per step); otherwise the logits are read back and sampled here: scaled by
// 1/temperature, cut to the top-k tokens, then to the smallest set whose probability reaches top-p (nucleus),
// and drawn from a seeded generator, so the same seed gives the same text on every adapter whose logits agree.

export interface SamplingOptions {
  /** 0 (the default) picks the most likely token; higher values flatten the distribution. */
  readonly temperature?: number;
  /** Keep only the k most likely tokens (0 or absent: all). */
  readonly topK?: number;
  /** Keep the most likely tokens whose probabilities sum to at least p, 0 < p <= 1 (absent or 1: all). */
  readonly topP?: number;
  /** Seed of the generator (default 0); the same seed, prompt and artifact give the same tokens. */
  readonly seed?: number;
}

export { seededRandom } from './random.js';

export class SamplingError extends Error {
  override name = 'SamplingError';
}

const ALL_NAN = 'every logit is NaN: the model produced no usable distribution';

/** Validates options up front, so a bad value fails before any GPU work. */
export function checkSampling(opts: SamplingOptions): void {
  const { temperature = 0, topK = 0, topP = 1, seed = 0 } = opts;
  if (!Number.isFinite(temperature) || temperature < 0) throw new SamplingError(`temperature must be a finite number >= 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new SamplingError(`topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new SamplingError(`topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new SamplingError(`seed must be an integer in 0..4294967295, got ${seed}`);
}

export const isGreedy = (opts: SamplingOptions): boolean => (opts.temperature ?? 0) === 0;

/** Index of the largest logit (the first on ties, as the artifact's ArgMax); NaN logits are never chosen. */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) if (!Number.isNaN(logits[i]!) && (best < 0 || logits[i]! > logits[best]!)) best = i;
  if (best < 0) throw new SamplingError(ALL_NAN);
  return best;
}

/**
 * The candidate tokens and their probabilities after temperature, top-k and top-p, most likely first. Exposed
 * for tests: sampleToken draws from exactly this distribution.
 */
export function candidateDistribution(logits: ArrayLike<number>, opts: SamplingOptions): { tokens: number[]; probs: number[] } {
  const temperature = opts.temperature ?? 0;
  if (temperature === 0) return { tokens: [argmax(logits)], probs: [1] };
  const order: number[] = [];
  for (let i = 0; i < logits.length; i++) if (!Number.isNaN(logits[i]!)) order.push(i);
  if (order.length === 0) throw new SamplingError(ALL_NAN);
  // Descending by logit, ties by index, so the cut points are deterministic.
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const topK = opts.topK ?? 0;
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const top = logits[kept[0]!]!;
  if (top === Infinity) return { tokens: [kept[0]!], probs: [1] };
  const weights = kept.map((t) => Math.exp((logits[t]! - top) / temperature));
  const total = weights.reduce((s, w) => s + w, 0);
  let probs = weights.map((w) => w / total);
  let tokens = kept;
  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let mass = 0;
    let n = 0;
    while (n < probs.length && mass < topP) mass += probs[n++]!;
    tokens = tokens.slice(0, n);
    probs = probs.slice(0, n).map((p) => p / mass);
  }
  return { tokens, probs };
}

/** One token drawn from the candidate distribution with `random()` in [0, 1). */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, random: () => number): number {
  const { tokens, probs } = candidateDistribution(logits, opts);
  if (tokens.length === 1) return tokens[0]!;
  const u = random();
  let cumulative = 0;
  for (let i = 0; i < tokens.length; i++) {
    cumulative += probs[i]!;
    if (u < cumulative) return tokens[i]!;
  }
  return tokens[tokens.length - 1]!; // rounding left the sum a hair under 1
}
