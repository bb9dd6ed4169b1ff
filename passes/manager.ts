// The pass manager: runs passes in order, verifies the graph after each one (so a broken pass is caught at the
// pass that broke it, not three passes later), optionally writes the printed IR after chosen passes, and
// collects per-pass statistics and timings.
import { type Graph, VerifyError, assertValid, printGraph } from '../ir/index.js';
import type { Pass, PassContext } from './pass.js';

export interface PipelineOptions {
  /** Verify the input and the result of every pass (default true). */
  readonly verify?: boolean;
  /** Pass names after which to dump the IR, or 'all'. */
  readonly dumpAfter?: readonly string[] | 'all';
  /** Receives each dump; the CLI writes it to `<dump-dir>/<NN>-<pass>.kir`. */
  readonly onDump?: (index: number, pass: string, text: string) => void;
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface PassReport {
  readonly pass: string;
  readonly ms: number;
  readonly stats: Readonly<Record<string, number>>;
}

export interface PipelineResult {
  readonly graph: Graph;
  readonly reports: readonly PassReport[];
}

export class PassError extends Error {
  override name = 'PassError';
}

export function runPipeline(input: Graph, passes: readonly Pass[], opts: PipelineOptions = {}): PipelineResult {
  const verifyEach = opts.verify ?? true;
  const wantsDump = (name: string): boolean => opts.dumpAfter === 'all' || (opts.dumpAfter ?? []).includes(name);
  if (verifyEach) assertValid(input, 'input to the pass pipeline');
  let g = input;
  const reports: PassReport[] = [];
  passes.forEach((pass, index) => {
    const cx: PassContext = { stats: new Map(), options: opts.options ?? {} };
    const start = performance.now();
    g = pass.run(g, cx);
    const ms = performance.now() - start;
    if (verifyEach) {
      try {
        assertValid(g);
      } catch (e) {
        if (e instanceof VerifyError) throw new PassError(`pass '${pass.name}' produced an invalid graph:\n${e.message}`);
        throw e;
      }
    }
    reports.push({ pass: pass.name, ms, stats: Object.fromEntries([...cx.stats].sort(([a], [b]) => a.localeCompare(b))) });
    if (wantsDump(pass.name)) opts.onDump?.(index + 1, pass.name, printGraph(g));
  });
  return { graph: g, reports };
}
