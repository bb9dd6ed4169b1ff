// Timing for the sparse benchmark: several engines or kernels of one case measured in interleaved rounds, so a
// slow stretch of a shared 2-core machine slows them alike instead of whichever ran then. Each gets its warm-up
// runs (the first compiles its pipelines: lavapipe compiles lazily), then its timed runs; the median counts.
// The slowest cases (a dense N = 64 product takes seconds a run on a software adapter) get one warm-up and fewer
// timed runs so the whole benchmark fits its time budget; every result says how many runs it is the median of.
import { median } from './timing.js';

export interface CaseTiming {
  readonly medianMs: number;
  readonly minMs: number;
  readonly runs: number;
  readonly warmup: number;
}

export interface RunPolicy {
  /** Warm-up runs (the first compiles pipelines); at least 2 (a slow case gets 1, see measureInterleaved). */
  readonly warmup: number;
  /** Timed runs for a case that is not slow. */
  readonly runs: number;
  /** A second run slower than this makes the case slow. */
  readonly slowMs: number;
  /** Timed runs of a slow case. */
  readonly slowRuns: number;
  /** A second run slower than this makes the case very slow... */
  readonly verySlowMs: number;
  /** ...and it gets this many timed runs. */
  readonly verySlowRuns: number;
}

/** What each timed function returns: its output, kept from the first warm-up for the correctness check. */
export type Timed<T> = () => Promise<T>;

export interface Measured<T> {
  readonly timing: CaseTiming;
  /** The output of the first run. */
  readonly output: T;
}

export interface Measurements<T> {
  readonly measured: Readonly<Record<string, Measured<T>>>;
  /** Cases whose first run threw, with the message; they are left out of the timed rounds. */
  readonly failed: Readonly<Record<string, string>>;
}

/**
 * Time every function of `cases` (by name) in interleaved rounds under `policy`. The first run of a case compiles
 * its pipelines, so it alone says little; a case whose first run is over slowMs runs once more, and if that run
 * is over slowMs too the case is slow: that run counts as its first timed run (after the one warm-up: further
 * warm-ups, which settle caches and allocators, are noise next to a multi-second run) and it gets slowRuns timed
 * runs in all (verySlowRuns past verySlowMs). Otherwise the second run was its second warm-up.
 * A case whose first run throws is left out (and reported in `failed`), so one broken kernel does not cost the
 * others their timings. `onRound` hears after the warm-ups (round 0) and after each timed round.
 */
export async function measureInterleaved<T>(
  cases: Readonly<Record<string, Timed<T>>>,
  policy: RunPolicy,
  onRound?: (round: number, rounds: number) => void,
): Promise<Measurements<T>> {
  const outputs = new Map<string, T>();
  const failed: Record<string, string> = {};
  const timed = async (name: string): Promise<number> => {
    const t0 = performance.now();
    await cases[name]!();
    return performance.now() - t0;
  };
  for (const name of Object.keys(cases)) {
    try {
      outputs.set(name, await cases[name]!());
    } catch (e) {
      failed[name] = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    }
  }
  const names = [...outputs.keys()];
  if (!names.length) return { measured: {}, failed };

  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  const wanted = new Map<string, number>();
  const warmups = new Map<string, number>();
  // The second run of every case, interleaved like the rest; it decides whether the case is slow.
  for (const name of names) {
    const ms = await timed(name);
    const slow = ms > policy.slowMs;
    if (slow) samples.get(name)!.push(ms);
    warmups.set(name, slow ? 1 : Math.max(2, policy.warmup));
    wanted.set(name, ms > policy.verySlowMs ? policy.verySlowRuns : slow ? policy.slowRuns : policy.runs);
  }
  for (let w = 2; w < Math.max(2, policy.warmup); w++) for (const name of names) if (w < warmups.get(name)!) await timed(name);
  const rounds = Math.max(...names.map((n) => wanted.get(n)! - samples.get(n)!.length));
  onRound?.(0, rounds);
  for (let round = 0; round < rounds; round++) {
    for (const name of names) if (samples.get(name)!.length < wanted.get(name)!) samples.get(name)!.push(await timed(name));
    onRound?.(round + 1, rounds);
  }
  const measured = Object.fromEntries(
    names.map((n) => {
      const s = samples.get(n)!;
      return [n, { timing: { medianMs: median(s), minMs: Math.min(...s), runs: s.length, warmup: warmups.get(n)! }, output: outputs.get(n)! }];
    }),
  );
  return { measured, failed };
}
