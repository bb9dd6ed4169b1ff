// LSTM, GRU and RNN compiled by kiln and run on the WebGPU adapter, compared with onnxruntime's CPU provider on
// the same ONNX models (not with kiln's interpreter, which runs the very expansion under test): random cases with
// ragged sizes, every activation, sequence_lens given at run time, batch-major layout, and a longer sequence.
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type RnnCase, type RnnOp, mismatch, ortOutputs, randomRnnCase, rnnData, rnnInputs, rnnModel } from '../../scripts/lib/recurrent-models.js';
import { runGraphOnGpu } from './graph-harness.js';

const RTOL = 1e-4;
const ATOL = 2e-5;
const OPS: RnnOp[] = ['LSTM', 'GRU', 'RNN'];

async function expectGpuMatchesOrt(c: RnnCase): Promise<void> {
  const data = rnnData(c);
  const want = await ortOutputs(c, data);
  const { graph } = importOnnx(rnnModel(c, data));
  const got = await runGraphOnGpu(graph, rnnInputs(c, data));
  const bad = c.outputs.map((o) => [o, mismatch(got[o], want[o]!, RTOL, ATOL)] as const).filter(([, m]) => m);
  expect(bad.map(([o, m]) => `${o}: ${m}`), JSON.stringify(c)).toEqual([]);
}

describe('random cases match onnxruntime on the GPU', () => {
  for (const op of OPS)
    it.each(Array.from({ length: 8 }, (_, i) => 5000 + 100 * OPS.indexOf(op) + i))(`${op} #%i`, async (seed) => {
      await expectGpuMatchesOrt(randomRnnCase(seed, { op }));
    });
});

describe('features on the GPU', () => {
  it('all eleven activations (bidirectional LSTM, GRU and RNN)', async () => {
    const params = (n: number) => ({ alpha: Array(n).fill(0.6), beta: Array(n).fill(0.25) });
    await expectGpuMatchesOrt(randomRnnCase(11, { op: 'LSTM', direction: 'bidirectional', activations: ['Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu'], ...params(6), outputs: ['Y', 'Y_h', 'Y_c'] }));
    await expectGpuMatchesOrt(randomRnnCase(12, { op: 'GRU', direction: 'bidirectional', activations: ['ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign'], ...params(4), outputs: ['Y', 'Y_h'] }));
    await expectGpuMatchesOrt(randomRnnCase(13, { op: 'RNN', direction: 'bidirectional', activations: ['Softplus', 'Sigmoid'], ...params(2), outputs: ['Y', 'Y_h'] }));
  });

  it('sequence_lens at run time with an empty row, layout 1, peepholes, clip and both GRU forms', async () => {
    const lens = { seq: 5, batch: 4, seqLens: [5, 0, 2, 3], lensAtRunTime: true, initialH: true, direction: 'bidirectional' as const, opset: 14, layout: 1 as const };
    await expectGpuMatchesOrt(randomRnnCase(21, { op: 'LSTM', ...lens, initialC: true, peepholes: true, clip: 0.8, outputs: ['Y', 'Y_h', 'Y_c'] }));
    for (const linearBeforeReset of [0, 1] as const) await expectGpuMatchesOrt(randomRnnCase(22, { op: 'GRU', ...lens, linearBeforeReset, outputs: ['Y', 'Y_h'] }));
    await expectGpuMatchesOrt(randomRnnCase(23, { op: 'RNN', ...lens, seqLens: [5, 1, 2, 3], outputs: ['Y', 'Y_h'] }));
  });

  it('a longer sequence with wider ragged sizes', async () => {
    await expectGpuMatchesOrt(randomRnnCase(31, { op: 'LSTM', seq: 24, batch: 3, input: 19, hidden: 33, direction: 'bidirectional', activations: undefined, alpha: undefined, beta: undefined, clip: undefined, outputs: ['Y', 'Y_h', 'Y_c'] }));
    await expectGpuMatchesOrt(randomRnnCase(32, { op: 'GRU', seq: 24, batch: 5, input: 7, hidden: 29, direction: 'reverse', seqLens: [24, 17, 3, 24, 9], lensAtRunTime: true, outputs: ['Y', 'Y_h'] }));
  });
});
