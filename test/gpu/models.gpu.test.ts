// Real models through the whole product: `kiln compile` + `kiln run --json` on mnist-8 (the README's command),
// tiny-distilbert-sst2 with its intermediate tensors, byte-identical recompiles, and clear refusals of damaged
// models. Needs ../shared (CI requires it).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx, readRawTensorProto, readTensorProtoFile } from '../../ir/index.js';
import { compareValues } from '../../scripts/lib/onnx-conformance.js';
import { kiln } from '../kiln-cli.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { runGraphOnGpu } from './graph-harness.js';

const models = haveShared() ? join(sharedDir()!, 'models') : '';

function filesOf(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesOf(dir, join(prefix, e.name)) : [join(prefix, e.name)],
  );
}

describe.runIf(haveShared())('mnist-8 through kiln compile and kiln run', () => {
  const model = join(models, 'mnist-8', 'model.onnx');
  const out = mkdtempSync(join(tmpdir(), 'kiln-mnist-'));

  it('compiles, twice to byte-identical artifacts', () => {
    const a = kiln(['compile', model, '-o', join(out, 'a')]);
    expect(a.stderr).not.toMatch(/internal error/);
    expect(a.status).toBe(0);
    expect(kiln(['compile', model, '-o', join(out, 'b')]).status).toBe(0);
    const files = filesOf(join(out, 'a')).sort();
    expect(filesOf(join(out, 'b')).sort()).toEqual(files);
    for (const f of files) expect(Buffer.compare(readFileSync(join(out, 'a', f)), readFileSync(join(out, 'b', f))), f).toBe(0);
  });

  it.each([
    [0, 0],
    [1, 3],
    [2, 5],
    [3, 7],
  ])('test set %i reads digit %i with logits within 1e-4 of onnxruntime', (set, digit) => {
    const data = join(models, 'mnist-8', 'reference', `test_data_set_${set}`);
    const r = kiln(['run', join(out, 'a'), '--input', `Input3=${join(data, 'input_0.pb')}`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const logits = JSON.parse(r.stdout).outputs.Plus214_Output_0;
    expect(logits.shape).toEqual([1, 10]);
    expect(logits.data.indexOf(Math.max(...logits.data))).toBe(digit);
    const t = { dtype: 'f32' as const, shape: logits.shape, data: Float64Array.from(logits.data) };
    expect(compareValues(t, readRawTensorProto(join(data, 'output_0.pb')), 0, 1e-4)).toBeUndefined();
  });

  it('refuses a tampered weights-0.bin at load with a clear message', () => {
    const dir = join(out, 'tampered');
    mkdirSync(join(dir, 'kernels'), { recursive: true });
    for (const f of filesOf(join(out, 'a'))) copyFileSync(join(out, 'a', f), join(dir, f));
    const w = readFileSync(join(dir, 'weights-0.bin'));
    w[100] = w[100]! ^ 1;
    writeFileSync(join(dir, 'weights-0.bin'), w);
    const r = kiln(['run', dir, '--input', `Input3=${join(models, 'mnist-8', 'reference', 'test_data_set_0', 'input_0.pb')}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/weights-0\.bin does not match the manifest/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.runIf(haveShared())('damaged models fail with a message and exit 1, never a stack trace or hang', () => {
  const bytes = haveShared() ? readFileSync(join(models, 'mnist-8', 'model.onnx')) : Buffer.alloc(0);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bad-'));
  const cases: [string, Uint8Array][] = [
    ['truncated.onnx', bytes.subarray(0, Math.floor(bytes.length / 2))],
    ['empty.onnx', new Uint8Array(0)],
    ['garbage.onnx', new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))],
  ];
  it.each(cases)('%s', (name, content) => {
    writeFileSync(join(dir, name), content);
    const r = kiln(['compile', join(dir, name), '-o', join(dir, `${name}.out`)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe.runIf(haveShared())('tiny-distilbert-sst2 on the GPU', () => {
  const dir = join(models, 'tiny-distilbert-sst2');
  const intermediates = ['130', '244', '282', '294', '297'];

  it.each([0, 1])('test set %i: logits and every reference intermediate within 1e-4', async (set) => {
    const data = join(dir, 'reference', `test_data_set_${set}`);
    const ids = readTensorProtoFile(join(data, 'input_0.pb'));
    const mask = readTensorProtoFile(join(data, 'input_1.pb'));
    const [batch, sequence] = ids.shape as [number, number];
    const { graph } = importOnnx(join(dir, 'model.onnx'), { symbols: { batch, sequence } });
    // Expose the intermediates as outputs so the compiled artifact returns them.
    const withIntermediates = { ...graph, outputs: [...graph.outputs, ...intermediates] };
    const out = await runGraphOnGpu(withIntermediates, { input_ids: ids, attention_mask: mask });
    expect(compareValues(out.logits!, readRawTensorProto(join(data, 'output_0.pb')), 0, 1e-4)).toBeUndefined();
    for (const name of intermediates) {
      const expected = readRawTensorProto(join(dir, 'reference_intermediate', `test_data_set_${set}`, `${name}.pb`));
      expect(compareValues(out[name]!, expected, 0, 1e-4), `tensor ${name}`).toBeUndefined();
    }
  });
});
