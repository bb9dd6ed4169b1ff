// The two MNIST models compiled with `kiln compile --bits` (README's accuracy table): mnist-8 (ONNX) and Burn's
// MNIST CNN (graph.kir + safetensors) at w8a8, w4a8 and w4a4 (weights and activations as codes: BitMatMul) and
// w8f16, w4f16 (weights only: the quant GEMV), groups of 32, still read 0, 3, 5 and 7 on the adapter. Integer
// products rewrite MatMul/Gemm only (mnist-8's MatMul of 256 x 10, burn-mnist's Linear layers 11616 x 32 and
// 32 x 10); the weights-only widths quantize the convolution weights too (as [M, C*kh*kw] codes, decoded on the
// device for the convolution kernels). Prints the worst |logit - float logit| per row for the table.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRawTensorProto } from '../../ir/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { kiln } from '../kiln-cli.js';

const models = haveShared() ? join(sharedDir()!, 'models') : '';
const MODELS = [
  { name: 'mnist-8', compile: () => [join(models, 'mnist-8', 'model.onnx')], data: 'mnist-8/reference', input: 'Input3', output: 'Plus214_Output_0' },
  {
    name: 'burn-mnist',
    compile: () => ['examples/burn-mnist/graph.kir', '--weights', join(models, 'burn-mnist-safetensors', 'mnist.safetensors')],
    data: 'burn-mnist-safetensors/reference',
    input: 'x',
    output: 'log_probs',
  },
];
const BITS = ['w8a8', 'w4a8', 'w4a4', 'w8f16', 'w4f16'];
const DIGITS = [0, 3, 5, 7];

describe.runIf(haveShared())('MNIST models with --bits still read 0, 3, 5, 7', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bits-models-'));
  for (const m of MODELS)
    it.each(BITS)(`${m.name} at %s`, (bits) => {
      const out = join(dir, `${m.name}-${bits}`);
      const c = kiln(['compile', ...m.compile(), '--bits', bits, '--bits-group', '32', '-o', out]);
      expect(c.status, c.stderr).toBe(0);
      let worst = 0;
      DIGITS.forEach((digit, set) => {
        const data = join(models, m.data, `test_data_set_${set}`);
        const r = kiln(['run', out, '--input', `${m.input}=${join(data, 'input_0.pb')}`, '--json']);
        expect(r.status, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout).outputs[m.output].data as number[];
        expect(got.indexOf(Math.max(...got)), `test set ${set}`).toBe(digit);
        const want = readRawTensorProto(join(data, 'output_0.pb')).values;
        worst = Math.max(worst, ...got.map((v, i) => Math.abs(v - want[i]!)));
      });
      process.stderr.write(`bits-models: ${m.name} ${bits}: max |logit - float reference| ${worst.toPrecision(3)}\n`);
      expect(worst).toBeGreaterThan(0);
    }, 120_000);
});
