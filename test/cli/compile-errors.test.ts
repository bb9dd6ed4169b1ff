// `kiln compile` on models it must refuse: the message names the file (and tensor or node) and says what is
// wrong; the exit code is 1; there is no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DT, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

function modelWithExternal(location: string, offset = 0, length = 16): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-ext-'));
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'outside.bin'), new Uint8Array(16));
  writeFileSync(join(dir, 'model', 'w.bin'), new Uint8Array(16));
  const w = {
    name: 'W',
    data_type: DT.FLOAT,
    dims: [4],
    data_location: 1,
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
  const m = model({ nodes: [node('Add', ['x', 'W'], ['y'])], inputs: [valueInfo('x', DT.FLOAT, [4])], outputs: [valueInfo('y', DT.FLOAT, [4])], initializers: [w] });
  const path = join(dir, 'model', 'model.onnx');
  writeFileSync(path, encodeModel(m));
  return path;
}

function compile(path: string): { status: number | null; stderr: string } {
  const r = spawnSync('node', ['bin/kiln.js', 'compile', path, '-o', `${path}.out`], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('kiln compile refuses unsafe or broken external data', () => {
  it.each([
    ['../outside.bin', /initializer 'W': external data location '\.\.\/outside\.bin' escapes the model's folder/],
    ['/etc/passwd', /initializer 'W'.*\/etc\/passwd/],
    ['missing.bin', /initializer 'W'.*missing\.bin/],
  ])('location %s', (location, message) => {
    const r = compile(modelWithExternal(location));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/model\.onnx/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it('a range past the end of the data file', () => {
    const r = compile(modelWithExternal('w.bin', 8, 16));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/initializer 'W'.*w\.bin/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});
