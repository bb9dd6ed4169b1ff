// Crashes found by a campaign: each saved as <out>/<target>/<sha8>.<ext> (the input) and <sha8>.txt (what
// happened, and how to replay it). The same bug tends to be hit many times, so crashes are grouped by a
// signature (the error's first line with numbers and quoted names blanked, and the first kiln stack frame) and
// only the first few inputs per signature are saved; every crash is counted.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Crash {
  readonly target: string;
  readonly seed: number;
  /** The case's index in the campaign (with the seed, it regenerates the input). */
  readonly index: number;
  readonly input: Uint8Array;
  /** The stack, or "timeout: ..." / "exit: ...". */
  readonly message: string;
}

/** Inputs saved per signature; later ones are counted only. */
const SAVED_PER_SIGNATURE = 5;

export function signature(c: Crash): string {
  const lines = c.message.split('\n');
  const first = lines[0]!.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "'…'").replace(/\d+/g, 'N');
  // Where it happened: in the innermost cause of a wrapped error.
  const cause = lines.map((l) => l.startsWith('caused by: ')).lastIndexOf(true);
  const frame = lines.slice(Math.max(cause, 0)).find((l) => /^\s+at /.test(l) && !l.includes('node_modules') && !l.includes('node:') && !l.includes('/scripts/fuzz/'));
  return `${c.target}: ${first}${frame ? ` ${frame.trim().replace(/:\d+\)?$/, '')}` : ''}`;
}

export class CrashLog {
  /** Signature -> number of crashes with it, in the order first seen. */
  readonly signatures = new Map<string, number>();
  readonly saved: string[] = [];

  constructor(
    private readonly outDir: string,
    private readonly extOf: (target: string) => string,
    private readonly print: (line: string) => void,
  ) {}

  add(c: Crash): void {
    const sig = signature(c);
    const seen = this.signatures.get(sig) ?? 0;
    this.signatures.set(sig, seen + 1);
    if (seen >= SAVED_PER_SIGNATURE) return;
    const sha8 = createHash('sha256').update(c.input).digest('hex').slice(0, 8);
    const dir = join(this.outDir, c.target);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${sha8}.${this.extOf(c.target)}`);
    writeFileSync(file, c.input);
    const rel = relative(process.cwd(), file);
    const shown = rel && !rel.startsWith('..') ? rel : file;
    const replay = `npm run fuzz -- --target ${c.target} --replay ${shown}`;
    writeFileSync(join(dir, `${sha8}.txt`), `kiln fuzz crash: target ${c.target}, seed ${c.seed}, case ${c.index}\nreplay: ${replay}\n\n${c.message}\n`);
    this.saved.push(file);
    if (seen === 0) this.print(`crash: ${c.target} case ${c.index}: ${c.message.split('\n')[0]} -> ${shown}`);
  }
}
