// Symbolic dims from the command line: `--dim name=lo..hi` keeps a symbol symbolic over a range (one artifact for
// every size in it), `kiln inspect` states the range, `kiln run` takes inputs of any size in it and refuses others
// naming the symbol; a symbol nobody bounded gets the largest power-of-two range whose tensors fit one binding
// (fit-symbol-bounds), also stated by inspect; a kernel without symbolic support is refused in one line naming the
// node and the --dim to give.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitSymbolBounds } from '../../passes/fit-symbol-bounds.js';
import { inferShapes } from '../../passes/index.js';
import { parseKir } from '../../ir/index.js';
import { kiln } from '../kiln-cli.js';

const CHAIN = `graph @chain(%x: f32[batch,3], %b: f32[3]) {
  symbol batch in 1..65536
  %m = Mul(%x, %b)
  %r = Relu(%m)
  return %r
}
`;

describe('symbolic dims on the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-sym-'));
  const model = join(dir, 'chain.kir');
  writeFileSync(model, CHAIN);

  it('--dim batch=1..8 compiles one artifact that inspect describes and run feeds at several sizes', () => {
    const out = join(dir, 'a');
    const c = kiln(['compile', model, '--dim', 'batch=1..8', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const inspect = kiln(['inspect', out]);
    expect(inspect.stdout).toMatch(/symbols: batch in 1\.\.8 \(sizes at run time/);
    expect(inspect.stdout).toMatch(/x: f32\[batch,3\]/);
    for (const [n, rows] of [
      [1, [[1, -2, 3]]],
      [3, [[1, 2, 3], [-1, -2, -3], [0.5, 0, 2]]],
    ] as const) {
      const x = join(dir, `x${n}.json`);
      writeFileSync(x, JSON.stringify(rows));
      writeFileSync(join(dir, 'b.json'), JSON.stringify([2, 1, -1]));
      const r = kiln(['run', out, '--input', `x=${x}`, '--input', `b=${join(dir, 'b.json')}`, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const want = rows.map((row) => row.map((v, i) => Math.max(0, v * [2, 1, -1][i]!)));
      const got = JSON.parse(r.stdout).outputs.r;
      expect(got.shape).toEqual([n, 3]);
      expect(got.data).toEqual(want.flat());
    }
    const nine = join(dir, 'x9.json');
    writeFileSync(nine, JSON.stringify(Array.from({ length: 9 }, () => [1, 1, 1])));
    const bad = kiln(['run', out, '--input', `x=${nine}`, '--input', `b=${join(dir, 'b.json')}`]);
    expect(bad.status).toBe(1);
    // One line of kiln's own (Dawn may print its adapter warnings beside it).
    const lines = bad.stderr.split('\n').filter((l) => l.startsWith('kiln:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/batch = 9 is outside the range this artifact was compiled for \(1\.\.8\)/);
  }, 240_000);

  it('a symbol nobody bounded is narrowed to what one binding holds, and inspect says so', () => {
    const out = join(dir, 'b');
    const c = kiln(['compile', model, '--limit', 'maxStorageBufferBindingSize=1200', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    // 3 f32 per batch row: 100 rows fit 1200 bytes, so the cap is 64.
    expect(kiln(['inspect', out]).stdout).toMatch(/symbols: batch in 1\.\.64/);
  }, 240_000);

  it('fit-symbol-bounds keeps given bounds and caps every unbounded symbol alike', () => {
    const g = inferShapes.run(
      parseKir(`graph @g(%x: f32[a,b], %y: f32[c]) {
  symbol a in 1..65536
  symbol b in 1..65536
  symbol c in 1..10
  %z = Relu(%x)
  return %z, %y
}`),
      { stats: new Map(), options: undefined, target: { shaderF16: false, limits: {}, profile: undefined as never }, program: [] },
    );
    const { graph, cap } = fitSymbolBounds(g, 4 * 1024 * 1024);
    expect(cap).toBe(1024); // 1024*1024 f32 = 4 MiB
    expect(graph.symbols).toEqual({ a: { min: 1, max: 1024 }, b: { min: 1, max: 1024 }, c: { min: 1, max: 10 } });
  });

  it('a kernel without symbolic support is refused in one line naming the node and the --dim to give', () => {
    const file = join(dir, 'topk.kir');
    writeFileSync(file, 'graph @tk(%x: f32[n,4]) {\n  symbol n in 1..16\n  %y, %i = TopK(%x) {k = 2, axis = 1}\n  return %y, %i\n}\n');
    const r = kiln(['compile', file, '-o', join(dir, 'c')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/TopK.*symbolic.*kiln compile --dim n=<size>/);
  }, 240_000);
});
