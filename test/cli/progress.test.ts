// Progress on long work (compiler/cli/progress.ts): on a terminal, cli-progress bars on stderr; elsewhere plain lines
// ("creating pipelines: 40 of 120") only for work past a second, at each quarter and at most every two seconds
// between; never anything on stdout. The CLI half runs `kiln run` on an artifact of 60 distinct kernels under a
// pseudo-terminal (util-linux `script`) and with --json through pipes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileProgress, createProgress, loadProgress, shownCount, writeProgress } from '../../compiler/cli/progress.js';
import { kiln } from '../kiln-cli.js';

/** A stand-in for stderr: what was written, as one string. */
function fakeStream(isTTY: boolean): { isTTY: boolean; columns: number; text: string; write(s: string): boolean } {
  return {
    isTTY,
    columns: 100,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; at: (ms: number) => void } {
  let t = 0;
  return { now: () => t, at: (ms) => (t = ms) };
}

describe('progress without a terminal: plain, throttled lines', () => {
  it('prints nothing for short work (under a second)', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = createProgress({ stream, now: clock.now });
    for (let i = 0; i <= 120; i++) {
      clock.at(i * 7); // 840 ms in all
      p.update('creating pipelines', i, 120);
    }
    p.stop();
    expect(stream.text).toBe('');
  });

  it('prints at quarters once past a second, at most every two seconds otherwise, and the end once', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = createProgress({ stream, now: clock.now });
    const step = (ms: number, done: number): void => {
      clock.at(ms);
      p.update('creating pipelines', done, 120);
    };
    step(0, 0);
    step(500, 35); // a quarter, but within the quiet second
    step(1000, 40); // past the second: the quarter reached is shown
    step(1500, 45); // same quarter, 0.5 s later: nothing
    step(2900, 50); // same quarter, 1.9 s after the last line: nothing
    step(3000, 51); // 2 s after the last line
    step(3100, 60); // the half
    step(3200, 61);
    step(4000, 89);
    step(4100, 90); // three quarters
    step(6000, 120); // done
    step(7000, 120); // said already
    p.stop();
    expect(stream.text.split('\n')).toEqual([
      'creating pipelines: 40 of 120',
      'creating pipelines: 51 of 120',
      'creating pipelines: 60 of 120',
      'creating pipelines: 90 of 120',
      'creating pipelines: 120 of 120',
      '',
    ]);
  });

  it('throttles each task on its own clock, shows bytes in a unit fit for the total, and ignores empty tasks', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = createProgress({ stream, now: clock.now });
    p.update('creating pipelines', 0, 4);
    clock.at(900);
    p.update('uploading weights', 0, 40e6, { bytes: true }); // starts 0.9 s later
    p.update('nothing', 0, 0);
    clock.at(1200);
    p.update('creating pipelines', 2, 4);
    p.update('uploading weights', 20e6, 40e6, { bytes: true }); // only 0.3 s old: quiet
    p.update('nothing', 0, 0);
    clock.at(2000);
    p.update('uploading weights', 40e6, 40e6, { bytes: true });
    p.update('creating pipelines', 4, 4);
    p.stop();
    clock.at(9000);
    p.update('uploading weights', 1, 2); // after stop: ignored
    expect(stream.text).toBe('creating pipelines: 2 of 4\nuploading weights: 40.0 of 40.0 MB\ncreating pipelines: 4 of 4\n');
    expect(shownCount(1536, 2048, true)).toBe('1.5 of 2.0 kB');
    expect(shownCount(12, 20, true)).toBe('12 of 20 bytes');
    expect(shownCount(2.5e9, 3e9, true)).toBe('2.5 of 3.0 GB');
  });

  it('the adapters name the stages of a load, a compile and a write', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const p = createProgress({ stream, now: clock.now, quietMs: 0, everyMs: 0 });
    loadProgress(p)({ stage: 'pipelines', done: 3, total: 4 });
    loadProgress(p)({ stage: 'weights', done: 2e6, total: 4e6 });
    compileProgress(p)({ stage: 'passes', done: 1, total: 6, pass: 'fold-constants' });
    compileProgress(p)({ stage: 'scheduling', done: 1, total: 2 });
    writeProgress(p)(3000, 3000);
    expect(stream.text.split('\n')).toEqual([
      'creating pipelines: 3 of 4',
      'uploading weights: 2.0 of 4.0 MB',
      'running passes: 1 of 6 (fold-constants)',
      'scheduling kernels: 1 of 2',
      'writing artifact: 3.0 of 3.0 kB',
      '',
    ]);
  });
});

describe('progress on a terminal: cli-progress bars', () => {
  it('draws a bar as soon as a task starts and at its end, and clears the bars on stop', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const p = createProgress({ stream, now: clock.now });
    p.update('creating pipelines', 0, 60);
    for (let i = 1; i < 60; i++) p.update('creating pipelines', i, 60); // the same instant: not redrawn
    p.update('creating pipelines', 60, 60);
    const drawn = stream.text;
    p.stop();
    p.stop();
    p.update('creating pipelines', 60, 60); // work still in flight after a failure: ignored
    p.update('uploading weights', 1, 2);
    expect(drawn).toMatch(/creating pipelines +\[-{30}\] 0 of 60/);
    expect(drawn).toMatch(/creating pipelines +\[={30}\] 60 of 60/);
    expect(drawn).not.toMatch(/ 30 of 60/);
    expect(stream.text.slice(drawn.length)).toContain('\x1b[0J'); // cleared below the cursor
    expect(stream.text.slice(drawn.length)).not.toMatch(/uploading|of 60/);
  });
});

// --- the CLI: `kiln run` of an artifact with 60 distinct kernels --------------------------------------------------

const REPO = resolve(import.meta.dirname, '../..');
const KILN = join(REPO, 'bin/kiln.js');
const KERNELS = 60;
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };

/** A chain of MatMuls x[1,2] . W0[2,3] . W1[3,2] . W2[2,4] ...: every one a different shape, so a kernel of its own. */
function chainKir(n: number): string {
  const dims = [2];
  for (let i = 0; i < n; i++) dims.push(i % 2 === 0 ? 3 + (i >> 1) : 2);
  const lines = ['graph @chain(%x: f32[1,2]) {'];
  let prev = '%x';
  for (let i = 0; i < n; i++) {
    const [a, b] = [dims[i]!, dims[i + 1]!];
    const w = Array.from({ length: a * b }, (_, j) => (((j * 7 + i) % 11) - 5) / 4);
    lines.push(`  const %w${i}: f32[${a},${b}] = [${w.join(', ')}]`, `  %h${i} = MatMul(${prev}, %w${i}) : f32[1,${b}]`);
    prev = `%h${i}`;
  }
  lines.push(`  return ${prev}`, '}', '');
  return lines.join('\n');
}

/** Run a shell command line under a pseudo-terminal: stdout and stderr both come back on script's stdout. */
function onTerminal(command: string): { status: number | null; output: string } {
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 180_000, env, cwd: REPO });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('kiln run shows progress on stderr only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-progress-'));
  const artifact = join(dir, 'chain');
  const input = join(dir, 'x.json');
  let compiled = '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    writeFileSync(join(dir, 'chain.kir'), chainKir(KERNELS));
    writeFileSync(input, '[[0.5, -0.25]]');
    const cmd = `node ${KILN} compile ${join(dir, 'chain.kir')} -o ${artifact}`;
    if (hasScript) {
      const r = onTerminal(cmd);
      expect(r.status, r.output).toBe(0);
      compiled = r.output;
    } else {
      const r = kiln(['compile', join(dir, 'chain.kir'), '-o', artifact]);
      expect(r.status, r.stderr).toBe(0);
      compiled = r.stderr;
    }
    expect(compiled).toMatch(new RegExp(`wrote .*: ${KERNELS} kernels`));
  }, 180_000);

  it.skipIf(!hasScript)('kiln compile on a terminal shows its passes and the writing', () => {
    expect(compiled).toMatch(/running passes +\[[=-]+\] \d+ of \d+/);
    expect(compiled).toMatch(/writing artifact +\[[=-]+\] [\d.]+ of [\d.]+ kB/);
  });

  it.skipIf(!hasScript)(`on a terminal, kiln run shows pipeline creation: N of ${KERNELS}`, () => {
    const r = onTerminal(`node ${KILN} run ${artifact} --input x=${input}`);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(new RegExp(`creating pipelines +\\[[=-]+\\] 0 of ${KERNELS}`));
    expect(r.output).toMatch(new RegExp(`creating pipelines +\\[=+\\] ${KERNELS} of ${KERNELS}`));
    expect(r.output).toMatch(/h59: f32\[1,2\] = \[/);
  }, 180_000);

  it('with --json and no terminal, stdout is the JSON object alone, and stderr has no bars', () => {
    const r = spawnSync('node', [KILN, 'run', artifact, '--input', `x=${input}`, '--json'], { encoding: 'utf8', timeout: 180_000, env, cwd: REPO });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { outputs: Record<string, { shape: number[] }> };
    expect(Object.keys(out)).toEqual(['outputs']);
    expect(out.outputs.h59!.shape).toEqual([1, 2]);
    expect(r.stdout).not.toMatch(/pipelines|weights|\bof\b/);
    expect(r.stderr).not.toMatch(/\x1b\[/); // no cursor movement when stderr is not a terminal
    for (const line of r.stderr.split('\n').filter((l) => /pipelines|weights/.test(l))) expect(line).toMatch(/^(creating pipelines|uploading weights): [\d.]+ of [\d.]+/);
  }, 180_000);
});
