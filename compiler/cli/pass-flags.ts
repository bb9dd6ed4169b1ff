// The pass-related flags of `kiln compile` and `kiln ir opt`: --dump-ir-after/--dump-dir (the IR after chosen
// passes, one file per pass and entry), --print-pipeline, and the sparsify options. Dumps start with a header line
// (a .kir comment, so they still parse) and kiln overwrites only files that start with it: a user's file of the
// same name is refused, never replaced.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PipelineStep, passNames } from '../../passes/index.js';
import { onPath } from '../io/fs-errors.js';
import { UsageError } from './errors.js';
import type { Output } from './ir-commands.js';

export const DUMP_HEADER = '// kiln dump:';

export function parseDumpAfter(value: string | undefined): readonly string[] | 'all' | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return 'all';
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of names) if (!passNames().includes(p)) throw new UsageError(`--dump-ir-after: unknown pass '${p}' (known: ${passNames().join(', ')}, all)`);
  return names;
}

/** Writes each dump to `<dir>/<NN>-<pass>[.<entry>].kir`. */
export function dumpWriter(dir: string, io: Output): (index: number, pass: string, text: string, entry?: string) => void {
  return (index, pass, text, entry) => {
    const file = join(dir, `${String(index).padStart(2, '0')}-${pass}${entry ? `.${entry}` : ''}.kir`);
    onPath(file, 'write', () => {
      mkdirSync(dir, { recursive: true });
      if (existsSync(file) && !readFileSync(file, 'utf8').startsWith(DUMP_HEADER))
        throw new UsageError(`${file} exists and is not a kiln IR dump; kiln does not overwrite it (choose another --dump-dir)`);
      writeFileSync(file, `${DUMP_HEADER} IR after pass ${index} '${pass}'${entry ? ` of entry '${entry}'` : ''}\n${text}`);
    });
    io.err(`wrote ${file}`);
  };
}

const formatOptions = (o: unknown): string =>
  o && typeof o === 'object' && Object.keys(o).length
    ? ` {${Object.entries(o as Record<string, unknown>)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')}}`
    : '';

/** The pipeline as `--print-pipeline` shows it: one pass per line with its options and summary, then what follows. */
export function formatPipeline(steps: readonly PipelineStep<any>[]): string {
  const width = Math.max(...steps.map((s) => s.pass.name.length + formatOptions(s.options).length));
  const lines = steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${(s.pass.name + formatOptions(s.options)).padEnd(width)}  ${s.pass.summary}`);
  return ['passes, in order (each followed by the verifier):', ...lines, 'then: schedule (fusion, kernel choice) -> verify the lowered program -> plan memory -> emit'].join('\n');
}

export interface PruneFlagOptions {
  prune?: string;
  pruneHeads?: string;
  pruneScope?: string;
  pruneFloor?: string;
  pruneMultiple?: string;
  pruneOnly?: string;
}

/** Raw prune-structured options from --prune, --prune-scope, --prune-multiple, --prune-only (the pass checks them). */
export function pruneFlags(opts: PruneFlagOptions): Record<string, unknown> | undefined {
  if (opts.prune === undefined) {
    if ([opts.pruneScope, opts.pruneMultiple, opts.pruneOnly, opts.pruneHeads, opts.pruneFloor].some((v) => v !== undefined))
      throw new UsageError('--prune-heads, --prune-scope, --prune-floor, --prune-multiple and --prune-only need --prune <ratio> (0: only exactly-zero channels)');
    return undefined;
  }
  return {
    ratio: number('--prune', opts.prune),
    ...(opts.pruneHeads !== undefined ? { heads: number('--prune-heads', opts.pruneHeads) } : {}),
    ...(opts.pruneScope !== undefined ? { scope: opts.pruneScope } : {}),
    ...(opts.pruneFloor !== undefined ? { floor: number('--prune-floor', opts.pruneFloor) } : {}),
    ...(opts.pruneMultiple !== undefined ? { multiple: number('--prune-multiple', opts.pruneMultiple) } : {}),
    ...(opts.pruneOnly !== undefined ? { only: opts.pruneOnly } : {}),
  };
}

function number(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} ${v}: expected a number`);
  return n;
}

/** Raw sparsify options from --sparsity, --sparsity-scope and --sparsity-floor (the pass validates them). */
export function sparsifyFlags(opts: { sparsity?: string; sparsityScope?: string; sparsityFloor?: string }): Record<string, unknown> | undefined {
  if (opts.sparsity === undefined) return undefined;
  return {
    sparsity: number('--sparsity', opts.sparsity),
    ...(opts.sparsityScope !== undefined ? { scope: opts.sparsityScope } : {}),
    ...(opts.sparsityFloor !== undefined ? { floor: number('--sparsity-floor', opts.sparsityFloor) } : {}),
  };
}
