// `kiln <command> --help` teaches: it lists every option the command defines and ends with an "Examples:" block
// whose command lines, together, use each of those options. The commands and their options are read from the
// commander program itself (buildProgram), so a new command or option without an example fails here. Also the
// exit codes the top-level help documents: 0 ok, 1 the user's error, 2 a kiln bug (triggered through the hidden
// KILN_TEST_INTERNAL_ERROR hook, since no input should reach one). The examples that need only examples/ are run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../compiler/cli/main.js';
import { kiln } from '../kiln-cli.js';

/** Every command below the program, with its path ("compile", "ir opt"), depth first. */
function commands(parent: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return parent.commands.flatMap((c) => [{ path: [...path, c.name()], command: c }, ...commands(c, [...path, c.name()])]);
}

/** The command lines of a help text's "Examples:" block (its comment lines dropped). */
function exampleLines(help: string): string[] {
  const at = help.indexOf('\nExamples:');
  expect(at, 'an "Examples:" block').toBeGreaterThanOrEqual(0);
  const block = help.slice(at + 1).split('\n\n')[0]!;
  return block
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => l.startsWith('kiln '));
}

/** Whether a command line passes the flag (as a whole word, not part of a longer flag). */
const usesFlag = (line: string, flag: string): boolean => new RegExp(`(^|\\s)${flag.replace(/[-]/g, '\\-')}(\\s|=|$)`).test(line);

const program = buildProgram();
const all = [{ path: [] as string[], command: program }, ...commands(program)];

describe('kiln <command> --help', () => {
  it('covers every command', () => {
    const names = all.map((c) => c.path.join(' '));
    for (const n of ['compile', 'run', 'generate', 'inspect', 'ir verify', 'ir print', 'ir opt', 'ir run']) expect(names).toContain(n);
  });

  for (const { path, command } of all) {
    const name = ['kiln', ...path].join(' ');
    it(`${name} --help: exit 0, every option listed and used in an example`, () => {
      const r = kiln([...path, '--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Usage: ${name}`);
      expect(r.stdout).toContain('Examples:');
      const examples = exampleLines(r.stdout);
      expect(examples.length).toBeGreaterThan(0);
      // Each example runs this command (the program's own examples may run any command).
      if (path.length > 0 && command.commands.length === 0) for (const e of examples) expect(e.startsWith(`${name} `), e).toBe(true);
      for (const option of command.options) {
        expect(r.stdout, `${name} --help lists ${option.flags}`).toContain(option.flags);
        const flags = [option.long, option.short].filter((f): f is string => !!f);
        expect(
          examples.some((e) => flags.some((f) => usesFlag(e, f))),
          `an example of ${name} uses ${option.flags}`,
        ).toBe(true);
      }
      // The test hook stays hidden.
      expect(r.stdout).not.toContain('KILN_TEST_INTERNAL_ERROR');
    }, 30_000);
  }

  it('the top-level help documents the exit codes', () => {
    const r = kiln(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Exit codes:\n\s+0 {2}success\n\s+1 {2}.*\n[\s\S]*\s+2 {2}a kiln bug: "kiln: internal error \(please report\)"/);
  }, 30_000);
});

describe('the examples work', () => {
  // The examples that need neither a GPU (run, generate) nor a model from ../shared or out/ (made by a script) run
  // here, in their commands' order, from a folder that has the repository's examples/ (outputs go to its out/).
  const NEEDS_MORE = /\.\.\/shared|out\/(tiny-|llama|bert|mnist)|--device-profile auto|^kiln (run|generate) /;
  it('every example that needs only examples/ exits 0', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kiln-help-examples-'));
    try {
      symlinkSync(resolve('examples'), join(cwd, 'examples'), 'dir');
      const ordered = [...all.filter((c) => c.path[0] === 'compile'), ...all.filter((c) => c.path[0] !== 'compile')];
      let ran = 0;
      for (const { path } of ordered) {
        for (const line of exampleLines(kiln([...path, '--help']).stdout).filter((l) => !NEEDS_MORE.test(l))) {
          expect(line, 'no quoting in these examples').not.toMatch(/["']/);
          const r = spawnSync('node', [resolve('bin/kiln.js'), ...line.split(/\s+/).slice(1)], { cwd, encoding: 'utf8', timeout: 60_000 });
          expect(r.status, `${line}\n${r.stderr}`).toBe(0);
          ran++;
        }
      }
      expect(ran).toBeGreaterThan(10);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('exit codes', () => {
  it('0 for a good run', () => {
    const r = kiln(['ir', 'verify', 'examples/mlp.kir']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('examples/mlp.kir: ok');
  }, 30_000);

  it('1 for a missing file: one line, no stack', () => {
    const r = kiln(['ir', 'verify', 'examples/no-such-file.kir']);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^kiln: .*no-such-file\.kir/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  }, 30_000);

  it('1 for a bad flag, an unknown command and a missing argument', () => {
    for (const args of [['compile', 'examples/mlp.kir', '--no-such-flag'], ['frobnicate'], ['ir', 'verify']]) {
      const r = kiln(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    }
  }, 30_000);

  it('2 for a kiln bug, with the report message and a stack', () => {
    const r = kiln(['ir', 'verify', 'examples/mlp.kir'], { env: { KILN_TEST_INTERNAL_ERROR: '1' } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^kiln: internal error \(please report\): Error: KILN_TEST_INTERNAL_ERROR=1/);
    expect(r.stderr).toMatch(/\n\s+at .*main\.js/);
    expect(r.stdout).toBe('');
  }, 30_000);

  it('the hook only fires when set to 1', () => {
    expect(kiln(['ir', 'verify', 'examples/mlp.kir'], { env: { KILN_TEST_INTERNAL_ERROR: '0' } }).status).toBe(0);
  }, 30_000);
});
