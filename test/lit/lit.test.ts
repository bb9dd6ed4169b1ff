// Pass tests in the IR's own words: every test/lit/<pass>/*.kir is an input graph with the `kiln` command lines
// to run over it (RUN:) and what their output must say (CHECK:), run here as one test per file, named by its path.
// test/lit/filecheck.ts defines the format.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../compiler/cli/main.js';
import { passNames } from '../../passes/index.js';
import { type KilnResult, runLitFile } from './filecheck.js';

/** test/lit as a path from the working directory (the repository root under vitest), so %s reads test/lit/... */
const LIT = relative(process.cwd(), import.meta.dirname) || '.';
/** The fewest cases a pass's folder may hold. */
const MIN_CASES = 3;

/** `kiln <argv>` in-process through the CLI's own entry, with what it wrote captured. */
async function kiln(argv: readonly string[]): Promise<KilnResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const merged: string[] = [];
  const code = await main(argv, {
    out: (t) => (stdout.push(`${t}\n`), merged.push(`${t}\n`)),
    err: (t) => (stderr.push(`${t}\n`), merged.push(`${t}\n`)),
    write: (t) => (stdout.push(t), merged.push(t)),
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join(''), merged: merged.join('') };
}

const kirFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.kir'))
    .map((e) => join(dir, e.name))
    .sort();

const folders = readdirSync(LIT, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('lit', () => {
  for (const pass of folders) {
    for (const file of kirFiles(join(LIT, pass)))
      it(file, async () => {
        const tmp = mkdtempSync(join(tmpdir(), 'kiln-lit-'));
        try {
          expect(await runLitFile(file, kiln, tmp)).toBeGreaterThan(0);
        } finally {
          rmSync(tmp, { recursive: true, force: true });
        }
      }, 120_000);
  }

  it(`every folder is a pass's name and holds at least ${MIN_CASES} cases`, () => {
    const known = passNames();
    for (const pass of folders) {
      expect(known, `test/lit/${pass}/ is not a pass (passes: ${known.join(', ')})`).toContain(pass);
      expect(kirFiles(join(LIT, pass)).length, `test/lit/${pass}/`).toBeGreaterThanOrEqual(MIN_CASES);
    }
  });
});
