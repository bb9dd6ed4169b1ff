// The top-dB clamp of a mel-spectrogram front end (torchaudio's AmplitudeToDB, librosa's power_to_db) exported
// with a symbolic `samples` axis: Clip's min is computed at run time as max(dB) - 80, so it reaches the kernel as
// data, not as an attribute. Compiled once, run at two lengths.
import { describe, expect, it } from 'vitest';
import { DT, attrInt, encodeModel, f32Tensor, model, node, valueInfo } from '../../../scripts/lib/onnx-build.js';
import { makeTensor } from '../../../ir/index.js';
import { expectRunsMatch, values } from './harness.js';

function topDb(opset: number): Uint8Array {
  return encodeModel(
    model({
      opset,
      nodes: [
        node('Mul', ['x', 'x'], ['power']),
        node('Max', ['power', 'amin'], ['clamped']),
        node('Log', ['clamped'], ['ln']),
        node('Mul', ['ln', 'db_per_neper'], ['db']),
        node('ReduceMax', ['db'], ['peak'], { keepdims: attrInt(0) }),
        node('Sub', ['peak', 'top_db'], ['floor']),
        node('Clip', ['db', 'floor', ''], ['y']),
      ],
      inputs: [valueInfo('x', DT.FLOAT, ['batch', 'samples'])],
      outputs: [valueInfo('y', DT.FLOAT, ['batch', 'samples'])],
      initializers: [f32Tensor('amin', [], [1e-10]), f32Tensor('db_per_neper', [], [10 / Math.LN10]), f32Tensor('top_db', [], [80])],
    }),
  );
}

describe('a computed Clip bound with a symbolic length on the adapter', () => {
  it('max(dB) - 80 as Clip min, samples 1..4096, run at 37 and 4000', async () => {
    // Wide dynamic range, so the clamp bites: some samples are ~1e-6 of the peak, some exactly 0.
    const signal = (b: number, n: number, seed: number) => {
      const v = values([b, n], seed);
      return makeTensor('f32', [b, n], (i) => (i % 7 === 0 ? 0 : i % 5 === 0 ? v.data[i]! * 1e-6 : v.data[i]!));
    };
    const cases = [
      { x: signal(1, 37, 1) },
      { x: signal(2, 4000, 2) },
    ];
    const shapes = await expectRunsMatch(topDb(13), { batch: { min: 1, max: 2 }, samples: { min: 1, max: 4096 } }, cases, { name: 'top-db', atol: 1e-3 });
    expect(shapes).toEqual([[[1, 37]], [[2, 4000]]]);
  }, 300_000);
});
