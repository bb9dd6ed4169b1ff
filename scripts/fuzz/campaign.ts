// A campaign over one target, on the parent's side. The child (child.ts, through host.ts) runs the cases, so a
// hang or a death (an out-of-memory abort, a native crash, a stray process.exit) costs a restart instead of the
// campaign. The parent asks for batches and waits for each report with a deadline of one case's time limit plus
// a batch's window: a batch ends within BATCH_MS of its start unless one case runs long, so a late report means
// the current case ran past the limit. On a hang or a death the culprit comes from the case file.
import type { Crash, CrashLog } from './crashes.js';
import type { Host } from './host.js';
import { BATCH_MS } from './protocol.js';

export interface CampaignOptions {
  readonly target: string;
  readonly seed: number;
  /** Case time, restarts included, loading the target not. */
  readonly seconds: number;
  readonly caseTimeoutMs: number;
  /** Stop after this many cases even if time is left (a reproducible amount of work). */
  readonly maxCases: number;
  readonly crashes: CrashLog;
  /** Called once the target is loaded, with what its cases are made from. */
  readonly ready: (corpus: string) => void;
  /** Called at least every `progressMs` with the counts so far. */
  readonly progress: (s: TargetStats) => void;
  readonly progressMs: number;
}

export interface TargetStats {
  cases: number;
  accepted: number;
  typed: number;
  crashes: number;
  seconds: number;
}

export async function runTarget(host: Host, opts: CampaignOptions): Promise<TargetStats> {
  const stats: TargetStats = { cases: 0, accepted: 0, typed: 0, crashes: 0, seconds: 0 };
  const record = (c: Omit<Crash, 'target' | 'seed'>): void => {
    stats.crashes++;
    opts.crashes.add({ target: opts.target, seed: opts.seed, ...c });
  };
  opts.ready(await host.load(opts.target));
  const began = performance.now();
  let lastProgress = began;
  let next = 0;
  let batch = 16; // grows while batches end by count, not by time
  while (performance.now() - began < opts.seconds * 1000 && next < opts.maxCases) {
    host.send({ type: 'batch', target: opts.target, from: next, max: Math.min(batch, opts.maxCases - next) });
    const e = await host.next(opts.caseTimeoutMs + BATCH_MS + 1000);
    if (e.type === 'done') {
      Object.assign(stats, { cases: stats.cases + e.ran, accepted: stats.accepted + e.accepted, typed: stats.typed + e.typed });
      if (e.thrown) record(e.thrown);
      if (e.ran === batch && !e.thrown) batch = Math.min(batch * 2, 4096);
      next += e.ran;
    } else if (e.type === 'fatal' || e.type === 'ready') throw new Error(`fuzz target ${opts.target}: ${e.type === 'fatal' ? e.message : 'unexpected message'}`);
    else {
      // Hung past the limit, or died: the culprit is in the case file; a new child goes on after it.
      await host.kill();
      const c = host.culprit();
      const message =
        e.type === 'timeout'
          ? `timeout: the case ran longer than ${opts.caseTimeoutMs / 1000} s`
          : `exit: the process died during the case (${e.signal ? `signal ${e.signal}` : `exit code ${e.code}`})\n${host.stderrTail()}`;
      // (A death between cases, from something a case left scheduled, is blamed on the case that ran last.)
      if (c.index >= next) Object.assign(stats, { cases: stats.cases + c.index - next + 1, accepted: stats.accepted + c.accepted, typed: stats.typed + c.typed });
      record({ index: c.index, input: c.input, message });
      next = c.index + 1;
      await host.load(opts.target);
    }
    stats.seconds = (performance.now() - began) / 1000;
    if (performance.now() - lastProgress >= opts.progressMs) {
      lastProgress = performance.now();
      opts.progress(stats);
    }
  }
  stats.seconds = (performance.now() - began) / 1000;
  return stats;
}
