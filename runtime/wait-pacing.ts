// Waiting for the GPU without spinning a CPU core. Dawn's Node binding (the `webgpu` package) settles a mapAsync by
// polling its instance from setImmediate for as long as the map is pending, so the JS thread runs at 100 % of a
// core for the whole GPU time of a run (84 % of the JS thread's time during a w4 GPT-2 decode step, measured from
// /proc). On a software adapter (lavapipe, SwiftShader) that core is one the adapter's own threads need: on this
// 2-core machine GPT-2 decode steps ran 1.4x and 1.5x faster paced (w4 median 40.8 -> 30.0 ms, f32 113 -> 75 ms,
// paced and unpaced sessions alternating in one process); on a real GPU the spin burns a core for nothing.
// Sleeping 0.75 of the estimate ran w4 at 36.9 ms, the whole estimate at 40.1 (it overshoots): 0.9.
// So in Node a run expected to take 20 ms or more sleeps on a timer (no polling) for most of the time the same kind
// of run took before, and maps after. The estimate follows the shortest recent times and rises slowly; when the
// results are there the moment the sleep ends, the run took less than the sleep by an unknown amount and the
// estimate halves (a session's first run, which compiles every shader on lavapipe, took 10x a later one). Runs are
// keyed by entry and symbol values, whose work differs; a first run does not sleep.
// The rest of the wait, and all of a shorter run's, does not spin either: the JS thread blocks for POLL_MS at a time
// (Atomics.wait, which wakes on time where a timer here fires 1-4 ms late), then lets one turn of the event loop
// run, in which Dawn polls once and other callbacks get their turn. bench:bits' 4096 x 4096 products, paced and
// unpaced sessions alternating in one process: dense f16 12.95 -> 8.96 ms, w4f16 4.66 -> 4.06, w2a8 4.34 -> 3.21,
// w1a1 2.06 -> 1.68 (medians; the spin had added a heavy tail: a lavapipe thread waiting out a scheduler slice).
// A browser settles mapAsync from its event loop without polling: no pacing there.

/** Of the estimated time, the part slept, less SLEEP_MARGIN_MS; the rest is polled. */
const SLEEP_FRACTION = 0.9;
/** A timer here fires 1-4 ms late, and a late wake-up is time added to the run. */
const SLEEP_MARGIN_MS = 2;
/**
 * Runs expected to take less are not slept through on a timer (only polled, below): a timer's lateness is a large
 * part of them (bench:bits' 4096 x 4096 GEMVs of 1-7 ms ran 1.4-1.7x slower on a timer, 13 ms ones 1.1x faster).
 */
const MIN_PACED_MS = 20;
/** Weight of a slower run in the estimate. */
const RISE = 0.3;
/** Results within this long after the sleep were ready before it ended. */
const READY_MS = 1;
/**
 * How long the JS thread blocks between two of Dawn's polls (4096 x 4096 w1a1 at 0.1 / 0.25 / 0.5 ms: 1.36, 1.59,
 * 1.77 ms; w4f16 4.05, 3.66, 3.70).
 */
const POLL_MS = 0.2;
/**
 * Kinds of run whose last RECENT waits took less (their median) spin as before: a poll's lateness is a large part of
 * them, and their spin is short (4096 x 4096 w1a1, ~1 ms: 1.13 ms polled against 1.02 spinning; dense f16, ~10 ms:
 * 7.97 against 12.37). Not by the estimate: w1a1's times have a long tail (0.7 to 5 ms), slow runs lifted the
 * estimate over the bar and polled runs, a little slower, kept it there (w1a1 2.16 against 1.52 ms). Not by the
 * shortest: a 5-10 ms GEMV's waits were now and then under 1 ms (its results ready as the submission returned).
 */
const MIN_POLLED_MS = 2;
const RECENT = 8;

export class WaitPacer {
  readonly #estimates = new Map<string, number>();
  /** The last RECENT times of each kind of run (polled or not: see MIN_POLLED_MS). */
  readonly #recent = new Map<string, number[]>();

  constructor(readonly enabled: boolean) {}

  /**
   * `results()` (the wait for run `key`'s results, submitted just now), after sleeping through most of its expected
   * time. A bound field, so `pacer.wait` can be handed on as a function.
   */
  readonly wait = async <T>(key: string, results: () => Promise<T>): Promise<T> => {
    const submitted = performance.now();
    const estimate = this.#estimates.get(key);
    const sleeps = this.enabled && estimate !== undefined && estimate >= MIN_PACED_MS;
    const ms = sleeps ? estimate * SLEEP_FRACTION - SLEEP_MARGIN_MS : 0;
    if (sleeps) await new Promise((resolve) => setTimeout(resolve, ms));
    const woke = performance.now();
    const recent = this.#recent.get(key) ?? [];
    const polls = this.enabled && (recent.length === 0 || median(recent) >= MIN_POLLED_MS);
    const value = polls ? await pollWithoutSpinning(results()) : await results();
    const done = performance.now();
    const took = done - submitted;
    const overslept = sleeps && done - woke < READY_MS;
    this.#recent.set(key, [...recent.slice(1 - RECENT), took]);
    this.#estimates.set(key, estimate === undefined ? took : overslept ? estimate / 2 : Math.min(took, (1 - RISE) * estimate + RISE * took));
    return value;
  };
}

/** The middle value of a non-empty list (the upper one of an even count). */
function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** Never written: Atomics.wait on it only times out (created on first use: a browser may lack SharedArrayBuffer). */
let blockCell: Int32Array | undefined;

/**
 * `pending` once it settles, the JS thread blocked between Dawn's polls instead of spinning through them: Dawn's
 * Node binding polls from setImmediate while a map is pending, so each awaited setImmediate here lets it poll once.
 */
async function pollWithoutSpinning<T>(pending: Promise<T>): Promise<T> {
  let settled = false;
  // Handles a rejection too (a lost device), so it is not reported unhandled while the loop runs; `pending` still
  // rejects for the caller.
  const settle = (): void => {
    settled = true;
  };
  pending.then(settle, settle);
  while (!settled) {
    Atomics.wait((blockCell ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, POLL_MS);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return pending;
}
