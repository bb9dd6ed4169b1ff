// The parent's handle on the child process that runs cases (child.ts). One child serves every target in turn
// (loading kiln and a target's corpus takes seconds; a campaign over all targets would spend its time starting
// processes otherwise) and is replaced after a hang or a death. Events from the child (messages, its exit) queue
// up; `next` waits for the next one, or for a deadline, which is how a hang is noticed.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASE_HEADER, type FromChild, type ToChild } from './protocol.js';

export type Event = FromChild | { type: 'exit'; code: number | null; signal: string | null } | { type: 'timeout' };

/** Loading a target (kiln's modules, compiling the manifests, writing checkpoints) may take this long. */
const LOAD_TIMEOUT_MS = 180_000;

export class Host {
  private proc: ChildProcess | undefined;
  private readonly events: Event[] = [];
  private wake: (() => void) | undefined;
  private stderr = '';
  private readonly dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
  /** Where the child writes each case before running it (protocol.ts CASE_HEADER). */
  readonly caseFile = join(this.dir, 'case.bin');

  constructor(
    private readonly seed: number,
    private readonly heapMb: number,
  ) {}

  private spawn(): ChildProcess {
    this.events.length = 0;
    this.stderr = '';
    const proc = fork(new URL('./child.ts', import.meta.url).pathname, [String(this.seed), this.caseFile], {
      execArgv: ['--import', import.meta.resolve('tsx'), `--max-old-space-size=${this.heapMb}`],
      // In the scratch folder, so that a core dump from a native crash goes away with it (tsx is told where the
      // project's tsconfig is, which it would otherwise look for in the working folder).
      cwd: this.dir,
      env: { ...process.env, TSX_TSCONFIG_PATH: new URL('../../tsconfig.json', import.meta.url).pathname, KILN_FUZZ_SCRATCH: this.dir },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced', // case bytes travel as Uint8Array
    });
    proc.stdout!.resume();
    proc.stderr!.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    proc.on('message', (m: FromChild) => proc === this.proc && this.push(m));
    proc.on('exit', (code, signal) => proc === this.proc && this.push({ type: 'exit', code, signal }));
    proc.on('error', () => {}); // a send racing the child's death; the 'exit' event reports it
    return (this.proc = proc);
  }

  private push(e: Event): void {
    this.events.push(e);
    this.wake?.();
  }

  /** The child, started if need be, with `target` loaded; returns the target's corpus line. */
  async load(target: string): Promise<string> {
    const proc = this.proc && this.proc.exitCode === null && this.proc.signalCode === null ? this.proc : this.spawn();
    this.send({ type: 'load', target });
    const e = await this.next(LOAD_TIMEOUT_MS);
    if (e.type === 'ready') return e.corpus;
    await this.kill();
    const why = e.type === 'fatal' ? e.message : e.type === 'exit' ? `exited (code ${e.code}, signal ${e.signal})` : 'timed out';
    throw new Error(`fuzz target ${target}: the child process (pid ${proc.pid}) could not load it: ${why}\n${this.stderrTail()}`);
  }

  send(m: ToChild): void {
    if (this.proc?.connected) this.proc.send(m);
  }

  async next(ms: number): Promise<Event> {
    if (!this.events.length) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    return this.events.shift() ?? { type: 'timeout' };
  }

  stderrTail = (): string => this.stderr.trim();

  /** The case the child was running when it hung or died, and its batch's counts before it. */
  culprit(): { index: number; accepted: number; typed: number; input: Uint8Array } {
    const bytes = readFileSync(this.caseFile);
    const [index, accepted, typed] = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + CASE_HEADER));
    return { index: index!, accepted: accepted!, typed: typed!, input: new Uint8Array(bytes.subarray(CASE_HEADER)) };
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
