// Burn's pretrained MNIST CNN: a .kir graph (examples/burn-mnist/graph.kir) whose params bind by name to the
// shared safetensors checkpoint, compiled and run through the CLI as a user would. Needs ../shared (CI requires it).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRawTensorProto } from '../../ir/index.js';
import { compareValues } from '../../scripts/lib/onnx-conformance.js';
import { kiln } from '../kiln-cli.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';

const folder = haveShared() ? join(sharedDir()!, 'models', 'burn-mnist-safetensors') : '';

describe.runIf(haveShared())('burn-mnist: graph.kir + mnist.safetensors', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'kiln-burn-')), 'artifact');

  it('compiles with --weights', () => {
    const r = kiln(['compile', 'examples/burn-mnist/graph.kir', '--weights', join(folder, 'mnist.safetensors'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    // The two BatchNorm step counters are in the file but not in the graph: reported, not fatal.
    expect(r.stderr).toMatch(/norm1\.num_batches_tracked/);
  });

  it.each([
    [0, 0],
    [1, 3],
    [2, 5],
    [3, 7],
  ])('test set %i reads digit %i with log-probabilities within 1e-4 of the reference', (set, digit) => {
    const data = join(folder, 'reference', `test_data_set_${set}`);
    const r = kiln(['run', out, '--input', `x=${join(data, 'input_0.pb')}`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const logProbs = JSON.parse(r.stdout).outputs.log_probs;
    expect(logProbs.shape).toEqual([1, 10]);
    expect(logProbs.data.indexOf(Math.max(...logProbs.data))).toBe(digit);
    const t = { dtype: 'f32' as const, shape: logProbs.shape, data: Float64Array.from(logProbs.data) };
    expect(compareValues(t, readRawTensorProto(join(data, 'output_0.pb')), 0, 1e-4)).toBeUndefined();
  });

  it('names the param, the tensor and the file when a shape does not match', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'kiln-burn-bad-')), 'graph.kir');
    const text = readFileSync('examples/burn-mnist/graph.kir', 'utf8').replace('f32[8,1,3,3] = "conv1.weight"', 'f32[8,1,3,4] = "conv1.weight"');
    writeFileSync(bad, text.replace('%c1 = Conv(%x, %conv1_w, %conv1_b) : f32[1,8,26,26]', '%c1 = Conv(%x, %conv1_w, %conv1_b) : f32[1,8,26,25]'));
    const r = kiln(['compile', bad, '--weights', join(folder, 'mnist.safetensors'), '-o', join(out, '..', 'bad')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/conv1_w/);
    expect(r.stderr).toMatch(/conv1\.weight/);
    expect(r.stderr).toMatch(/mnist\.safetensors/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
