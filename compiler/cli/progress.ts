// Progress on long work (a compile's passes, writing an artifact, loading one: weights upload and pipeline
// creation), always on stderr, never stdout, so `--json` output stays one JSON object. On a terminal each task is
// a cli-progress bar, cleared when the work is done; otherwise (a pipe, a log file) a task prints plain lines such as
// "creating pipelines: 40 of 120", and only once it has run a second: then at each quarter of the way and at most
// every two seconds between them, so short work prints nothing.
import { MultiBar, type SingleBar } from 'cli-progress';
import type { CompileProgress } from '../compile.js';
import type { LoadProgress } from '../../runtime/index.js';

/** Where progress goes: process.stderr, or a stand-in (tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  readonly stream?: ProgressStream;
  /** Milliseconds, monotonic (default performance.now). */
  readonly now?: () => number;
  /** Without a terminal: a task prints nothing until it has run this long (default 1000 ms). */
  readonly quietMs?: number;
  /** Without a terminal: the most time between two lines of a task, quarters aside (default 2000 ms). */
  readonly everyMs?: number;
}

export interface TaskUpdate {
  /** Show the counts as megabytes. */
  readonly bytes?: boolean;
  /** What the task is on now (a pass's name). */
  readonly detail?: string;
}

export interface Progress {
  /** `done` of `total` for the task named `label`; its first update starts it (report done 0 first). */
  update(label: string, done: number, total: number, more?: TaskUpdate): void;
  /**
   * End the display (clears the bars); call it when the work is done or has failed. Later updates are ignored (work
   * still in flight after a failure). Safe to call twice.
   */
  stop(): void;
}

/** "40 of 120", or for bytes "12.5 of 40.0 MB" (the unit chosen by the total). */
export function shownCount(done: number, total: number, bytes = false): string {
  if (!bytes) return `${done} of ${total}`;
  const [scale, unit] = total >= 1e9 ? [1e9, 'GB'] : total >= 1e6 ? [1e6, 'MB'] : total >= 1e3 ? [1e3, 'kB'] : [1, 'bytes'];
  const f = (n: number): string => (scale === 1 ? String(n) : (n / scale).toFixed(1));
  return `${f(done)} of ${f(total)} ${unit}`;
}

export function createProgress(opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  return stream.isTTY ? new Bars(stream, now) : new Lines(stream, now, opts.quietMs ?? 1000, opts.everyMs ?? 2000);
}

/** Bars on a terminal, one per task, redrawn as updates come (compiles are synchronous: no timer would fire). */
class Bars implements Progress {
  #multi: MultiBar | undefined;
  readonly #bars = new Map<string, SingleBar>();
  #drawn = -Infinity;
  #stopped = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number,
  ) {}

  update(label: string, done: number, total: number, more: TaskUpdate = {}): void {
    if (!(total > 0) || this.#stopped) return;
    this.#multi ??= new MultiBar({
      stream: this.stream as NodeJS.WritableStream,
      format: '{label} [{bar}] {shown}',
      barsize: 30,
      fps: 10,
      clearOnComplete: true,
      // Leave the terminal's own settings (cursor, wrapping) alone: a killed process cannot restore them.
      linewrap: true,
      hideCursor: false,
    });
    const payload = { label: label.padEnd(18), shown: `${shownCount(done, total, more.bytes)}${more.detail ? `  ${more.detail}` : ''}` };
    let bar = this.#bars.get(label);
    const fresh = !bar;
    if (bar) {
      bar.setTotal(total);
      bar.update(done, payload);
    } else this.#bars.set(label, (bar = this.#multi.create(total, done, payload)));
    const t = this.now();
    if (fresh || done >= total || t - this.#drawn >= 100) {
      this.#drawn = t;
      this.#multi.update();
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#multi?.stop();
    this.#multi = undefined;
  }
}

interface LineTask {
  readonly start: number;
  last: number;
  /** Quarters of the way reached at the last line printed (0..4). */
  quarter: number;
}

/** Plain lines where there is no terminal: see the file's comment. */
class Lines implements Progress {
  readonly #tasks = new Map<string, LineTask>();
  #stopped = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number,
    private readonly quietMs: number,
    private readonly everyMs: number,
  ) {}

  update(label: string, done: number, total: number, more: TaskUpdate = {}): void {
    if (this.#stopped) return;
    const t = this.now();
    let task = this.#tasks.get(label);
    if (!task) this.#tasks.set(label, (task = { start: t, last: t, quarter: 0 }));
    // Nothing for a task without a size, one said to be finished, or one that has not yet run quietMs.
    if (!(total > 0) || task.quarter === 4 || t - task.start < this.quietMs) return;
    const quarter = Math.min(4, Math.floor((4 * done) / total));
    if (quarter <= task.quarter && t - task.last < this.everyMs) return;
    task.quarter = quarter;
    task.last = t;
    this.stream.write(`${label}: ${shownCount(done, total, more.bytes)}${more.detail ? ` (${more.detail})` : ''}\n`);
  }

  stop(): void {
    this.#stopped = true;
  }
}

/** Session.load's onProgress, shown on `progress`. */
export function loadProgress(progress: Progress): (p: LoadProgress) => void {
  return (p) =>
    p.stage === 'pipelines' ? progress.update('creating pipelines', p.done, p.total) : progress.update('uploading weights', p.done, p.total, { bytes: true });
}

/** compileProgram's onProgress, shown on `progress`. */
export function compileProgress(progress: Progress): (p: CompileProgress) => void {
  return (p) =>
    p.stage === 'passes'
      ? progress.update('running passes', p.done, p.total, p.pass && p.done < p.total ? { detail: p.pass } : {})
      : progress.update('scheduling kernels', p.done, p.total);
}

/** writeArtifact's onProgress, shown on `progress`. */
export function writeProgress(progress: Progress): (done: number, total: number) => void {
  return (done, total) => progress.update('writing artifact', done, total, { bytes: true });
}
