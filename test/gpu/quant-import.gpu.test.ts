// Pre-quantized weights on the adapter: ONNX MatMulNBits models (2, 4 and 8 bits; blocks of 32 and 128 with K not a
// multiple of the block; with and without zero points) compile, run, and match the interpreter within 1e-4, and
// the artifact's weights are the codes (about N x K x bits / 8 bytes), not a float copy.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { makeTensor } from '../../ir/index.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { matMulNBitsModel, quantizeBlocks } from '../../scripts/lib/quant-writers.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const weight = (seed: number) => (n: number, k: number): number => Math.sin(n * 12.9898 + k * 78.233 + seed) * 0.8;

describe('MatMulNBits on the adapter', () => {
  for (const bits of [2, 4, 8])
    for (const block of [32, 128])
      for (const zeros of ['default', 'packed'] as const)
        it(`${bits} bits, block ${block}, ${zeros} zero points`, async () => {
          const [n, k] = [40, 300];
          const q = quantizeBlocks(weight(bits + block), n, k, bits, block, Math.fround, zeros === 'default' ? 2 ** (bits - 1) : undefined);
          const { graph } = importOnnx(matMulNBitsModel(q, { zeros, lead: [3] }), { file: 'nbits.onnx' });
          const artifact = compileGraph(graph, { source: 'test', target: { shaderF16: false } });
          const pages = artifact.manifest.buffers.filter((b) => b.kind === 'weights');
          const weightBytes = pages.reduce((s, b) => s + b.bytes, 0);
          // Codes, plus a scale and a zero point per block (f32 and u<bits>), plus page alignment.
          expect(weightBytes).toBeGreaterThanOrEqual((n * k * bits) / 8);
          expect(weightBytes).toBeLessThan((n * k * bits) / 8 + n * Math.ceil(k / block) * 5 + 1024);
          await expectGpuMatchesInterpreter(graph, { a: makeTensor('f32', [3, k], (i) => Math.cos(i * 0.37) * 1.5) }, { rtol: 1e-4, atol: 1e-4 });
        });
});
