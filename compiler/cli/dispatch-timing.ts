// Each dispatch of a session's entry timed over several runs, by the adapter's timestamp queries or, without
// them, one submit per dispatch (runtime/probe.ts). One loop for `kiln profile`, `kiln tune` and bench:layout;
// in compiler/cli/ because it runs sessions (the rest of compiler/ only writes artifacts).
import type { InputValue, Session, acquireDevice } from '../../runtime/index.js';
import { type DispatchTimer, submitProbe, timestampProbe } from '../../runtime/probe.js';

type AcquiredDevice = Awaited<ReturnType<typeof acquireDevice>>;

export interface DispatchTimes {
  readonly method: DispatchTimer['method'];
  /** samples[i]: dispatch i's milliseconds in each timed run (NaN where it did not run). */
  readonly samples: number[][];
}

export interface TimingOptions {
  readonly runs: number;
  /** Untimed runs first: the first pays pipeline and memory set-up (hundreds of ms on lavapipe). */
  readonly warmup?: number;
  /** Stop early once this many ms have passed (at least one timed run). */
  readonly budgetMs?: number;
}

export async function timeDispatches(acquired: AcquiredDevice, session: Session, feeds: Record<string, InputValue>, entry: string, o: TimingOptions): Promise<DispatchTimes> {
  const count = session.manifest.entryPoints[entry]!.dispatches.length;
  const timer = acquired.features.has('timestamp-query') ? timestampProbe(acquired.device, count) : submitProbe(acquired.device, count);
  try {
    for (let i = 0; i < (o.warmup ?? 1); i++) await session.run(feeds, entry);
    const samples: number[][] = Array.from({ length: count }, () => []);
    const start = performance.now();
    for (let r = 0; r < o.runs && (r === 0 || o.budgetMs === undefined || performance.now() - start < o.budgetMs); r++) {
      await session.run(feeds, entry, { probe: timer });
      (await timer.read()).forEach((ms, i) => samples[i]!.push(ms));
    }
    return { method: timer.method, samples };
  } finally {
    timer.destroy();
  }
}
