// Pre-quantized weights on the adapter: ONNX MatMulNBits models (2, 4 and 8 bits; blocks of 32 and 128 with K not a
// multiple of the block; with and without zero points) and GPTQ / AWQ llama checkpoints compile, run, and match
// the interpreter within 1e-4, and the artifact's weights are the codes (about N x K x bits / 8 bytes), not a
// float copy.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph, compileProgram } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { importHf, makeTensor } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import { type QuantCheckpointOptions, writeQuantizedCheckpoint } from '../../scripts/lib/quant-checkpoints.js';
import { promptIds } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { expectStepsMatch } from './decoder-steps.js';
import { testGpu } from './harness.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { DQ_CASES, K as DQ_K, N as DQ_N, dqModel } from '../../scripts/lib/dequantize-writer.js';
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
          // kiln inspect's report: imported codes, no float weight to measure the error against.
          expect(artifact.manifest.quantization?.layers).toMatchObject([{ shape: [k, n], bits, group: block, relError: null, maxError: null }]);
          expect(weightBytes).toBeLessThan((n * k * bits) / 8 + n * Math.ceil(k / block) * 5 + 1024);
          await expectGpuMatchesInterpreter(graph, { a: makeTensor('f32', [3, k], (i) => Math.cos(i * 0.37) * 1.5) }, { rtol: 1e-4, atol: 1e-4 });
        });
});

const LLAMA = { hidden_size: 256, intermediate_size: 384, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64 };

describe.each<[string, QuantCheckpointOptions]>([
  ['GPTQ 4-bit, group 128, act-order', { method: 'gptq', bits: 4, group: 128, actOrder: true }],
  ['GPTQ 3-bit, group 32', { method: 'gptq', bits: 3, group: 32, checkpointFormat: 'gptq_v2' }],
  ['AWQ 4-bit, group 64', { method: 'awq', bits: 4, group: 64 }],
])('llama %s on the adapter', (_, o) => {
  it('matches the interpreter step by step, with the codes as weights', async () => {
    const pair = writeQuantizedCheckpoint(mkdtempSync(join(tmpdir(), 'kiln-quant-gpu-')), 'llama', LLAMA, 3, o);
    const model = importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32, chunk: 8 });
    const reference = importHf(pair.reference.configPath, { weights: pair.reference.weightsPath, maxSeq: 32, chunk: 8 });
    const program = (m: typeof model) => ({ name: 'llama', entries: m.entries, generation: m.generation! });
    const artifact = compileProgram(program(model), { target: { shaderF16: false } });
    const float = compileProgram(program(reference), { target: { shaderF16: false } });
    // 7 projections of 256..384 x 256..384 per layer dominate the float weights; as codes they take bits / 32 of them.
    const ratio = artifact.manifest.memory!.weightsBytes / float.manifest.memory!.weightsBytes;
    expect(ratio).toBeLessThan(0.45);
    const gpu = await testGpu();
    const prompt = promptIds(11, model.generation!.vocabSize);
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      await expectStepsMatch(session, model.generation!, prompt, interpGenerate(model, prompt, 6));
    } finally {
      session.dispose();
    }
  });
});

describe('DequantizeLinear weights on the adapter', () => {
  for (const c of DQ_CASES)
    it(c.what, async () => {
      const { graph } = importOnnx(dqModel(c).bytes, { file: 'dq.onnx' });
      const artifact = compileGraph(graph, { source: 'test', target: { shaderF16: false } });
      // At most a byte per code plus scales: a float copy would take 4 bytes per element.
      expect(artifact.manifest.memory!.weightsBytes).toBeLessThan(DQ_K * DQ_N * 1.25);
      await expectGpuMatchesInterpreter(graph, { x: makeTensor('f32', [3, DQ_K], (i) => Math.sin(i * 0.3)) }, { rtol: 1e-4, atol: 1e-4 });
    });
});
