// External tensor data: read from inside the model's folder only, in range, with errors naming tensor and file.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interp.js';
import { OnnxImportError, importOnnx } from '../../ir/import/onnx/index.js';
import { makeTensor } from '../../ir/tensor.js';
import { DT, encodeModel, model, node, rawBytes, valueInfo } from '../../scripts/lib/onnx-build.js';

/** A folder holding model.onnx, whose initializer W (f32[4]) lives in external data described by `entries`. */
function modelWithExternal(entries: Record<string, string>, data?: { file: string; bytes: Uint8Array }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ext-'));
  mkdirSync(join(dir, 'model'));
  if (data) writeFileSync(join(dir, 'model', data.file), data.bytes);
  const w = {
    name: 'W',
    data_type: DT.FLOAT,
    dims: [4],
    data_location: 1,
    external_data: Object.entries(entries).map(([key, value]) => ({ key, value })),
  };
  const m = model({
    nodes: [node('Add', ['x', 'W'], ['y'])],
    inputs: [valueInfo('x', DT.FLOAT, [4])],
    outputs: [valueInfo('y', DT.FLOAT, [4])],
    initializers: [w],
  });
  const path = join(dir, 'model', 'model.onnx');
  writeFileSync(path, encodeModel(m));
  return path;
}

/** 8 bytes of junk, then four f32 values 1..4. */
const weights = rawBytes(24, (v) => [1, 2, 3, 4].forEach((x, i) => v.setFloat32(8 + i * 4, x, true)));

function importError(path: string): string {
  try {
    importOnnx(path);
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxImportError);
    return (e as Error).message;
  }
  throw new Error('expected the import to fail');
}

describe('external data', () => {
  it('reads a range of a file inside the model folder', () => {
    const path = modelWithExternal({ location: 'weights.bin', offset: '8', length: '16' }, { file: 'weights.bin', bytes: weights });
    const { graph } = importOnnx(path);
    const y = interpret(graph, { x: makeTensor('f32', [4], [10, 20, 30, 40]) }).y!;
    expect([...y.data]).toEqual([11, 22, 33, 44]);
  });

  it('reads from the offset to the end of the file when no length is given, also in subfolders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ext-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'w.bin'), weights);
    const m = model({
      nodes: [node('Identity', ['W'], ['y'])],
      inputs: [],
      outputs: [valueInfo('y', DT.FLOAT, [4])],
      initializers: [{ name: 'W', data_type: DT.FLOAT, dims: [4], data_location: 1, external_data: [{ key: 'location', value: 'data/w.bin' }, { key: 'offset', value: '8' }] }],
    });
    writeFileSync(join(dir, 'm.onnx'), encodeModel(m));
    const { graph } = importOnnx(join(dir, 'm.onnx'));
    expect([...graph.constants[0]!.value!.data]).toEqual([1, 2, 3, 4]);
  });

  it('rejects a location that climbs out of the model folder', () => {
    const path = modelWithExternal({ location: '../outside.bin' });
    writeFileSync(join(path, '..', '..', 'outside.bin'), weights);
    expect(importError(path)).toMatch(/model\.onnx: initializer 'W': external data location '\.\.\/outside\.bin' escapes the model's folder/);
  });

  it('rejects an absolute location', () => {
    expect(importError(modelWithExternal({ location: '/etc/passwd' }))).toMatch(
      /initializer 'W': external data location '\/etc\/passwd' is an absolute path/,
    );
  });

  it('rejects a symlink that points out of the folder', () => {
    const path = modelWithExternal({ location: 'link.bin' });
    const outside = join(path, '..', '..', 'secret.bin');
    writeFileSync(outside, weights);
    symlinkSync(outside, join(path, '..', 'link.bin'));
    expect(importError(path)).toMatch(/initializer 'W': external data file 'link\.bin' resolves \(through a symlink\) to .*secret\.bin, outside/);
  });

  it('rejects a range past the end of the file', () => {
    const path = modelWithExternal({ location: 'weights.bin', offset: '16', length: '16' }, { file: 'weights.bin', bytes: weights });
    expect(importError(path)).toMatch(/initializer 'W': external data range offset 16 length 16 lies past the end of 'weights\.bin' \(24 bytes\)/);
  });

  it('rejects a missing file, a bad offset, and a length that does not match the tensor', () => {
    expect(importError(modelWithExternal({ location: 'nope.bin' }))).toMatch(/initializer 'W': cannot open external data file 'nope\.bin'.*ENOENT/);
    const bad = modelWithExternal({ location: 'weights.bin', offset: '-1' }, { file: 'weights.bin', bytes: weights });
    expect(importError(bad)).toMatch(/external data 'offset' is not a byte count: '-1'/);
    const short = modelWithExternal({ location: 'weights.bin', offset: '8', length: '12' }, { file: 'weights.bin', bytes: weights });
    expect(importError(short)).toMatch(/raw_data has 12 bytes, expected 16 for 4 float elements/);
  });

  it('needs a folder when the model is given as bytes', () => {
    const path = modelWithExternal({ location: 'weights.bin' }, { file: 'weights.bin', bytes: weights.subarray(8) });
    const bytes = new Uint8Array(readFileSync(path));
    expect(() => importOnnx(bytes)).toThrow(/<bytes>: initializer 'W': data is stored in external file 'weights\.bin'.*pass baseDir/);
    expect(importOnnx(bytes, { baseDir: join(path, '..') }).graph.constants).toHaveLength(1);
  });
});
