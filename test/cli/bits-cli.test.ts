// `kiln compile --bits`: the bitpack pass from the command line. The example MLP compiled at w8a8 runs on the
// adapter (QuantizeRows in one kernel, the bit-plane product) and classifies its two rows as the float model
// does; --calibrate puts the output error on sample inputs in the report; the pipeline lists the pass; bad flags
// are one line, exit 1, before any model is read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRawTensorProto } from '../../ir/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { kiln } from '../kiln-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-bits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln compile --bits', () => {
  it('compiles the example MLP at w8a8 with bit-plane kernels; it classifies as the float model', () => {
    const run = (extra: string[], name: string) => {
      const out = join(dir, name);
      const c = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', ...extra, '-o', out]);
      expect(c.status, c.stderr).toBe(0);
      const r = kiln(['run', out, '--input', 'x=examples/mlp-input.json', '--json']);
      expect(r.status, r.stderr).toBe(0);
      return { out, result: (JSON.parse(r.stdout) as { outputs: Record<string, { data: number[] }> }).outputs };
    };
    const float = run([], 'float');
    const packed = run(['--bits', 'w8a8', '--bits-group', '4'], 'w8a8');
    const kernels = (JSON.parse(readFileSync(join(packed.out, 'manifest.json'), 'utf8')) as { kernels: { file: string }[] }).kernels.map((k) => k.file);
    expect(kernels.some((f) => f.includes('bit-matmul'))).toBe(true);
    expect(kernels.some((f) => f.includes('row-quantize'))).toBe(true);
    const data = (r: typeof float, name: string) => r.result[name]!.data;
    expect(data(packed, 'class')).toEqual(data(float, 'class'));
    const [p, f] = [data(packed, 'probs'), data(float, 'probs')];
    expect(Math.max(...p.map((v, i) => Math.abs(v - f[i]!)))).toBeLessThan(0.02);
  }, 120_000);

  it('kiln inspect reports each quantized weight: width, group, kernel, bytes and its error against the float weight', () => {
    const out = join(dir, 'report');
    expect(kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '--bits', 'w4a8', '--bits-group', '4', '-o', out]).status).toBe(0);
    const r = kiln(['inspect', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/quantization: 2 weights as codes; weight bytes 224 as f32 -> 84/);
    expect(r.stdout).toMatch(/ {2}w1\t8 x 4\t4\tsigned\t4\tbit-planes\t48\t4\.80 %\t0\.0641/);
    const layers = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { quantization: { layers: { relError: number }[] } }).quantization.layers;
    expect(layers.every((l) => l.relError > 0 && l.relError < 0.1)).toBe(true);
  });

  it.runIf(haveShared())('--calibrate: mnist-8 at w4a4, the report gives the output error on the samples; the adapter agrees', () => {
    const model = join(sharedDir() ?? '', 'models/mnist-8');
    const out = join(dir, 'mnist-w4a4');
    const c = kiln(['compile', join(model, 'model.onnx'), '--bits', 'w4a4', '--calibrate', join(model, 'reference'), '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const cal = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { quantization: { calibration: { samples: number; outputs: { output: string; maxError: number; relError: number }[] } } }).quantization.calibration;
    expect(cal.samples).toBe(4);
    expect(cal.outputs.map((o) => o.output)).toEqual(['Plus214_Output_0']);
    // The same figure from the adapter: the compiled model's logits against the float model's reference outputs.
    let max = 0;
    for (let set = 0; set < 4; set++) {
      const r = kiln(['run', out, '--input', `Input3=${join(model, 'reference', `test_data_set_${set}`, 'input_0.pb')}`, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const got = (JSON.parse(r.stdout) as { outputs: Record<string, { data: number[] }> }).outputs.Plus214_Output_0!.data;
      const want = Array.from(readRawTensorProto(join(model, 'reference', `test_data_set_${set}`, 'output_0.pb')).values);
      got.forEach((v, i) => (max = Math.max(max, Math.abs(v - Number(want[i])))));
    }
    expect(cal.outputs[0]!.maxError).toBeGreaterThan(0.01);
    expect(Math.abs(cal.outputs[0]!.maxError - max)).toBeLessThan(1e-3 * max + 1e-3);
    const inspect = kiln(['inspect', out]);
    expect(inspect.stdout).toMatch(/quantization output error on 4 calibration sample\(s\) \(interpreter, against the float graph\):\n {2}Plus214_Output_0\trel\. error \d+\.\d\d %\tmax error \d/);
  }, 120_000);

  it('--bits-layers: w2 at w8a8 in groups of 4, w1 weights only at 4 bits; the report shows each', () => {
    const out = join(dir, 'mixed');
    const c = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '--bits', 'w4a8', '--bits-layers', 'examples/mlp-bits-layers.json', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const layers = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { quantization: { layers: { weight: string; bits: number; group: number; kernel: string }[] } }).quantization.layers;
    expect(layers.map((l) => [l.weight, l.bits, l.group])).toEqual([
      ['w1', 4, 4],
      ['w2', 8, 4],
    ]);
    expect(layers.find((l) => l.weight === 'w1')!.kernel).toMatch(/quant-gemv|materialize/);
    const r = kiln(['run', out, '--input', 'x=examples/mlp-input.json', '--json']);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  it('--print-pipeline lists bitpack with its options', () => {
    const r = kiln(['compile', 'examples/mlp.kir', '--bits', 'w4a8', '--bits-keep', 'w2', '--print-pipeline']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/bitpack/);
  });

  it.each([
    [['--bits', 'w4'], /^kiln: --bits: bitpack bits must be w<n>a<m> with n and m in 1\.\.8 \(e\.g\. w4a8\), or w<n>f16 \/ w<n>f32 for weights only, n = t for ternary weights \(wta8\), got 'w4'$/],
    [['--bits-group', '32'], /^kiln: --bits-group, --bits-keep and --bits-layers need --bits w<n>a<m>$/],
    [['--bits', 'w4a8', '--bits-layers', 'examples/mlp.kir'], /^kiln: --bits-layers: examples\/mlp\.kir is not JSON \(.*\); expected \{"<weight-name regex>": "w8a8" \| \{"bits": "w4a8", "group": 32\}\}$/],
    [['--bits', 'w4a8', '--bits-layers', 'examples/mlp-input.json'], /^kiln: --bits-layers examples\/mlp-input\.json: bitpack layers must map weight-name patterns to widths/],
    [['--bits', 'w4a8', '--bits-group', 'x'], /^kiln: --bits: bitpack group must be an integer >= 0/],
  ])('%j is refused in one line', (flags, message) => {
    const r = kiln(['compile', 'examples/mlp.kir', ...flags, '-o', join(dir, 'bad')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
  });
});
