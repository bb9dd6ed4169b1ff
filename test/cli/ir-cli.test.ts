import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpret, makeTensor, parseKir } from '../../ir/index.js';
import { main } from '../../compiler/cli/main.js';

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), write: (t) => out.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const FIX = 'test/cli/fixtures';

describe('kiln ir', () => {
  it('verify reports a syntax error as path:line:col with what was expected, exit 1', async () => {
    const r = await kiln('ir', 'verify', `${FIX}/syntax-error.kir`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^kiln: test\/cli\/fixtures\/syntax-error\.kir:2:16: expected "\)" or ","/);
  });

  it('verify reports type and attribute errors naming the node and its location', async () => {
    const r = await kiln('ir', 'verify', `${FIX}/bad-types.kir`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${FIX}/bad-types.kir:2:3: error: %s = Add(%x, %y): cannot broadcast shapes [4] and [3]`);
    expect(r.err).toContain(`${FIX}/bad-types.kir:3:3: error: %t = Sqrt(%s): unknown attribute 'alpha'`);
  });

  it('verify accepts the example', async () => {
    const r = await kiln('ir', 'verify', 'examples/mlp.kir');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/examples\/mlp\.kir: ok \(7 nodes/);
  });

  it('print is canonical: printing its own output changes nothing', async () => {
    const once = await kiln('ir', 'print', 'examples/mlp.kir');
    const dir = mkdtempSync(join(tmpdir(), 'kiln-'));
    const file = join(dir, 'once.kir');
    writeFileSync(file, once.out);
    const twice = await kiln('ir', 'print', file);
    expect(twice.out).toBe(once.out);
  });

  it('run evaluates the example with the interpreter and prints JSON', async () => {
    const r = await kiln('ir', 'run', 'examples/mlp.kir', '--input', 'x=examples/mlp-input.json', '--json');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out).outputs;
    const g = parseKir(readFileSync('examples/mlp.kir', 'utf8'), 'mlp.kir');
    const x = makeTensor('f32', [2, 4], JSON.parse(readFileSync('examples/mlp-input.json', 'utf8')).flat());
    const want = interpret(g, { x });
    expect(got.probs.shape).toEqual([2, 3]);
    expect(got.probs.data).toEqual(Array.from(want.probs!.data));
    expect(got.class).toEqual({ dtype: 'i32', shape: [2], data: Array.from(want.class!.data) });
  });

  it('opt runs the named passes and dumps the IR after each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-dump-'));
    const r = await kiln('ir', 'opt', 'examples/mlp.kir', '--passes', 'infer-shapes,fold-constants,eliminate-dead', '--dump-ir-after', 'all', '--dump-dir', dir);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['01-infer-shapes.kir', '02-fold-constants.kir', '03-eliminate-dead.kir']);
  });

  it('errors are messages with exit 1, not stack traces', async () => {
    for (const argv of [
      ['ir', 'verify', 'no/such/file.kir'],
      ['ir', 'opt', 'examples/mlp.kir', '--passes', 'nope'],
      ['ir', 'run', 'examples/mlp.kir'],
      ['ir', 'run', 'examples/mlp.kir', '--input', 'y=examples/mlp-input.json'],
      ['ir', 'run', 'examples/mlp.kir', '--input', `x=${FIX}/syntax-error.kir`],
      ['ir', 'frobnicate'],
    ]) {
      const r = await kiln(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err, argv.join(' ')).not.toMatch(/at .*\.ts:\d+/);
      expect(r.err.length, argv.join(' ')).toBeGreaterThan(10);
    }
  });

  it('the installed bin runs (README command)', () => {
    const r = spawnSync('node', ['bin/kiln.js', 'ir', 'run', 'examples/mlp.kir', '--input', 'x=examples/mlp-input.json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/%probs: f32\[2,3\] = \[/);
    expect(r.stdout).toMatch(/%class: i32\[2\] = \[/);
  }, 60_000);
});

