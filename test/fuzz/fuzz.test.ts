// `npm run fuzz` (scripts/fuzz.ts): a short campaign over every target finds no crash and runs cases that are
// accepted and refused in every target; the hidden selftest-crash target proves that a thrown TypeError, a
// process.exit, a death by a signal and a hang are each reported as a crash with the input saved (and that the
// accepted and typed-error cases are not); and a case depends only on the seed, the target and its index.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { caseRng } from '../../scripts/fuzz/rng.js';
import { PUBLIC_TARGETS, TARGETS } from '../../scripts/fuzz/targets.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'kiln-fuzz-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Run `npm run fuzz -- args`; resolves with the exit code and stdout (stderr appended, for failure messages). */
function fuzz(args: string[]): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('npm', ['run', '--silent', 'fuzz', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => void (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, output: `${stdout}\n${stderr}` }));
  });
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

type Summary = { minutes: number; seed: number; crashes: number; targets: Record<string, { cases: number; accepted: number; typed: number; crashes: number }> };
const summaryOf = (stdout: string): Summary => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('npm run fuzz', () => {
  it('runs every target: cases accepted and refused in each, no crash, exit 0', async () => {
    const out = join(scratch, 'all');
    // 120 cases a target (the same ones every run: a fixed seed), unless 2 min / 7 targets run out first.
    const { code, stdout, output } = await fuzz(['--minutes', '2', '--max-cases', '120', '--target', 'all', '--seed', '1', '--out', out]);
    expect(code, output).toBe(0);
    expect(stdout).toMatch(/^target +cases +accepted +typed errors +crashes +seconds$/m);
    const summary = summaryOf(stdout);
    expect(summary).toMatchObject({ minutes: 2, seed: 1, crashes: 0 });
    expect(Object.keys(summary.targets)).toEqual([...PUBLIC_TARGETS]);
    for (const [t, s] of Object.entries(summary.targets)) {
      expect(s.crashes, t).toBe(0);
      expect(s.accepted, t).toBeGreaterThan(0); // the generators reach past the parsers' first checks
      expect(s.typed, t).toBeGreaterThan(0); // and the damage reaches the parsers' refusals
      expect(s.cases, t).toBe(s.accepted + s.typed);
    }
    expect(existsSync(out)).toBe(false);
  }, 150_000);

  it('reports a TypeError, an exit, a signal and a hang as crashes with their inputs saved, and exits 1', async () => {
    const out = join(scratch, 'selftest');
    const args = ['--minutes', '1', '--max-cases', '6', '--case-timeout', '1', '--target', 'selftest-crash', '--seed', '3', '--out', out];
    const { code, stdout, output } = await fuzz(args);
    expect(code, output).toBe(1);
    expect(summaryOf(stdout)).toMatchObject({ crashes: 4, targets: { 'selftest-crash': { cases: 6, accepted: 1, typed: 1, crashes: 4 } } });
    const dir = join(out, 'selftest-crash');
    const saved = readdirSync(dir).filter((f) => f.endsWith('.case'));
    const byKind = Object.fromEntries(saved.map((f) => [readFileSync(join(dir, f), 'utf8').split(' ')[0], readFileSync(join(dir, f.replace(/\.case$/, '.txt')), 'utf8')]));
    expect(Object.keys(byKind).sort()).toEqual(['abort', 'exit', 'hang', 'throw']);
    expect(byKind.throw).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(byKind.exit).toContain('the process died during the case (exit code 3)');
    expect(byKind.abort).toContain('the process died during the case (signal SIGABRT)');
    expect(byKind.hang).toContain('timeout: the case ran longer than 1 s');
    for (const report of Object.values(byKind)) expect(report).toMatch(/^kiln fuzz crash: target selftest-crash, seed 3, case \d\nreplay: npm run fuzz -- --target selftest-crash --replay /);

    const thrown = saved.find((f) => readFileSync(join(dir, f), 'utf8').startsWith('throw'))!;
    const replay = await fuzz(['--target', 'selftest-crash', '--replay', join(dir, thrown)]);
    expect(replay.code, replay.output).toBe(1);
    expect(replay.stdout).toContain('crash: TypeError');
  }, 90_000);

  it('makes a case from the seed, the target and its index alone, whatever ran before', async () => {
    process.env.KILN_FUZZ_SCRATCH = scratch; // the targets' own files, removed with the rest
    for (const name of ['npy', 'json', 'safetensors']) {
      const t = await TARGETS[name]!.load();
      const indices = Array.from({ length: 40 }, (_, i) => i * 7);
      const first = indices.map((i) => sha256(t.generate(caseRng(11, name, i), i)));
      const again = [...indices].reverse().map((i) => sha256(t.generate(caseRng(11, name, i), i))).reverse();
      expect(again, name).toEqual(first);
      expect(new Set(first).size, name).toBeGreaterThan(30);
    }
  }, 60_000);
});
