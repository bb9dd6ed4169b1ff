// Steady-state timing: warm-up runs first (pipeline caches, allocator growth, JIT), then the median of timed runs.
export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly runs: number;
}

export interface TimingOptions {
  /** Untimed runs before measuring (default 5). */
  readonly warmup?: number;
  /** Timed runs (default 20). */
  readonly runs?: number;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Time `fn` (awaited, one call at a time) after `warmup` untimed calls. */
export async function measure(fn: () => Promise<unknown>, opts: TimingOptions = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 5;
  const runs = opts.runs ?? 20;
  if (runs < 1) throw new Error(`runs must be at least 1 (got ${runs})`);
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { medianMs: median(samples), minMs: Math.min(...samples), meanMs: samples.reduce((a, b) => a + b, 0) / runs, runs };
}
