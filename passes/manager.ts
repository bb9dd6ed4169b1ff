// The pass manager: runs pipeline steps in order, verifies the graphs after each one (so a broken pass is caught at
// the pass that broke it, not three passes later), optionally hands out the printed IR after chosen passes, and
// collects per-pass statistics and timings. A program (several entry graphs sharing constants) runs in lockstep:
// each pass over every entry before the next pass, so passes that decide storage see all the entries' uses.
import { type Graph, VerifyError, assertValid, printGraph } from '../ir/index.js';
import { DEFAULT_TARGET, type Pass, type PassContext, type PassTarget, type PipelineStep, configure } from './pass.js';

export interface PipelineOptions {
  /** Verify the input and the result of every pass (default true). */
  readonly verify?: boolean;
  /** Pass names after which to dump the IR, or 'all'. */
  readonly dumpAfter?: readonly string[] | 'all';
  /** Receives each dump; `entry` is the entry's name when the program has several. */
  readonly onDump?: (index: number, pass: string, text: string, entry?: string) => void;
  readonly target?: PassTarget;
  /** Called before each pass runs (over every entry): its 0-based index, the number of passes, and its name. */
  readonly onPass?: (index: number, total: number, pass: string) => void;
  /** Called after each step with every entry's graph before and after it (reports compare them). */
  readonly onStep?: (pass: string, before: readonly Graph[], after: readonly Graph[]) => void;
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

export interface ProgramPipelineResult {
  readonly graphs: Readonly<Record<string, Graph>>;
  readonly reports: readonly PassReport[];
}

export class PassError extends Error {
  override name = 'PassError';
}

const asStep = (s: Pass<any> | PipelineStep<any>): PipelineStep<unknown> => ('pass' in s ? s : configure(s));

export function runPipeline(input: Graph, steps: readonly (Pass<any> | PipelineStep<any>)[], opts: PipelineOptions = {}): PipelineResult {
  const r = runProgramPipeline({ [input.name]: input }, steps, { ...opts, onDump: opts.onDump && ((i, p, t) => opts.onDump!(i, p, t)) });
  return { graph: Object.values(r.graphs)[0]!, reports: r.reports };
}

export function runProgramPipeline(
  entries: Readonly<Record<string, Graph>>,
  steps: readonly (Pass<any> | PipelineStep<any>)[],
  opts: PipelineOptions = {},
): ProgramPipelineResult {
  const verifyEach = opts.verify ?? true;
  const wantsDump = (name: string): boolean => opts.dumpAfter === 'all' || (opts.dumpAfter ?? []).includes(name);
  const names = Object.keys(entries);
  let graphs = names.map((n) => entries[n]!);
  if (verifyEach) graphs.forEach((g, i) => assertValid(g, `input to the pass pipeline${names.length > 1 ? ` (entry '${names[i]}')` : ''}`));
  const reports: PassReport[] = [];
  steps.map(asStep).forEach(({ pass, options }, index) => {
    opts.onPass?.(index, steps.length, pass.name);
    const stats = new Map<string, number>();
    const start = performance.now();
    const before = graphs;
    graphs = before.map((g) => {
      const cx: PassContext<unknown> = { stats, options, target: opts.target ?? DEFAULT_TARGET, program: before };
      return pass.run(g, cx);
    });
    const ms = performance.now() - start;
    if (verifyEach)
      graphs.forEach((g, i) => {
        try {
          assertValid(g);
        } catch (e) {
          if (e instanceof VerifyError) throw new PassError(`pass '${pass.name}' produced an invalid graph${names.length > 1 ? ` for entry '${names[i]}'` : ''}:\n${e.message}`);
          throw e;
        }
      });
    opts.onStep?.(pass.name, before, graphs);
    reports.push({ pass: pass.name, ms, stats: Object.fromEntries([...stats].sort(([a], [b]) => a.localeCompare(b))) });
    if (wantsDump(pass.name)) graphs.forEach((g, i) => opts.onDump?.(index + 1, pass.name, printGraph(g), names.length > 1 ? names[i] : undefined));
  });
  return { graphs: Object.fromEntries(names.map((n, i) => [n, graphs[i]!])), reports };
}
