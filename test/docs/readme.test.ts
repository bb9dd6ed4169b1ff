// The README cannot rot: every command in its ```sh blocks runs here, in order, from the repository root, and must
// exit 0 (a block's lines run one after another, so a later command may use what an earlier one wrote to out/).
// The one command not run here is the README's test command (`... npm test`): it is what CI itself runs (.ci/run
// runs it verbatim, checked below), and running the suite from inside the suite would recurse.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');

/** The commands of the README's sh blocks: continuation lines joined, blank and comment-only lines dropped. */
export function readmeCommands(text: string): string[] {
  const commands: string[] = [];
  for (const block of text.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```/gm)) {
    let pending = '';
    for (const line of block[1]!.split('\n')) {
      const joined = pending + line;
      if (joined.trimEnd().endsWith('\\')) {
        pending = `${joined.trimEnd().slice(0, -1)} `;
        continue;
      }
      pending = '';
      if (joined.trim() && !joined.trim().startsWith('#')) commands.push(joined.trim());
    }
  }
  return commands;
}

const isTestCommand = (c: string): boolean => /\bnpm test\b/.test(c);
const commands = readmeCommands(readme);

describe('the README', () => {
  it('has commands, and exactly one of them runs the test suite', () => {
    expect(commands.length).toBeGreaterThan(10);
    expect(commands.filter(isTestCommand)).toHaveLength(1);
  });

  it("CI runs the README's test command verbatim", () => {
    const ci = readFileSync(new URL('.ci/run', ROOT), 'utf8');
    const command = commands.find(isTestCommand)!.replace(/\s+#.*$/, '');
    expect(ci).toContain(command);
  });

  commands
    .filter((c) => !isTestCommand(c))
    .forEach((command, i) =>
      it(`runs: ${command.length > 110 ? `${command.slice(0, 107)}...` : command}`, () => {
        const r = spawnSync('bash', ['-c', command], {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 600_000,
          env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
        });
        expect(r.status, `README command ${i + 1} failed:\n$ ${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
      }, 600_000),
    );
});
