// `kiln compile --input-shape name=d0,...`: a model exported with a fixed batch gets a symbolic one (mnist-8's
// [1,1,28,28] as [batch,1,28,28]; its constant Reshape follows the symbol), and every misuse is one line, exit 1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DT, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';
import { kiln } from '../kiln-cli.js';

describe('--input-shape', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-input-shape-'));
  const model = join(dir, 'relu.onnx');
  writeFileSync(model, singleOp('Relu', [valueInfo('x', DT.FLOAT, [1, 'n', 4])], [valueInfo('y', DT.FLOAT, [1, 'n', 4])]));

  it('makes a fixed dim symbolic and fixes a symbolic one; inspect states the range', () => {
    const out = join(dir, 'a');
    const c = kiln(['compile', model, '--input-shape', 'x=batch,3,4', '--dim', 'batch=1..8', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/input 'x' dim 0 \(1 in the model\) is the symbol batch/);
    const inspect = kiln(['inspect', out]).stdout;
    expect(inspect).toMatch(/x: f32\[batch,3,4\]/);
    // n was fixed to 3, so batch is the only symbol left.
    expect(inspect).toMatch(/symbols: batch in 1\.\.8 \(/);
  }, 60_000);

  it.each([
    [['y=batch,3,4'], /--input-shape names 'y', which is not a graph input of the model \(inputs: x\)/],
    [['x=batch,3'], /--input-shape gives input 'x' 2 dims, but the model declares 3: \[1,n,4\]/],
    [['x=1,3,5'], /--input-shape x: dim 2 is 4 in the model; only a symbolic dim can be fixed/],
    [['x=1,3,4-1'], /--input-shape x=1,3,4-1: each dim is a size or a symbol name/],
  ])('%j is refused in one line', (flags, message) => {
    const c = kiln(['compile', model, ...flags.flatMap((f) => ['--input-shape', f]), '-o', join(dir, 'bad')]);
    expect(c.status).toBe(1);
    expect(c.stderr.trim().split('\n')).toHaveLength(1);
    expect(c.stderr).toMatch(message);
  });

  it('is refused for a .kir graph, which declares its inputs itself', () => {
    const kir = join(dir, 'g.kir');
    writeFileSync(kir, 'graph @g(%x: f32[2]) {\n  %y = Relu(%x)\n  return %y\n}\n');
    const c = kiln(['compile', kir, '--input-shape', 'x=n', '-o', join(dir, 'k')]);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/--input-shape applies to ONNX models; g\.kir declares its inputs itself/);
  });
});
