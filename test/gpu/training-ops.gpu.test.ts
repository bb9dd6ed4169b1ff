// The ai.onnx.preview.training optimizers (Adagrad, Adam, Momentum standard and nesterov) imported from hand-built
// models, compiled and run on the adapter against the interpreter on random inputs: two tensors of ragged sizes
// per node ([7] and [5, 3]), the learning rate and the update count fed at run time, T = 0 (no bias correction,
// gradient weight 1) and T > 0.
import { describe, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/index.js';
import { DT, attrFloat, attrString, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

type Obj = Record<string, unknown>;
const SHAPES = [[7], [5, 3]];
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** One optimizer step over SHAPES: `lists` are the input lists after R and T (X, G, then the states). */
async function check(op: string, lists: string[], attrs: Record<string, Obj>, t: number, seed: number): Promise<void> {
  const ins = lists.flatMap((l) => SHAPES.map((_, j) => `${l}${j}`));
  const outs = lists.filter((l) => l !== 'G').flatMap((l) => SHAPES.map((_, j) => `${l}${j}_new`));
  const bytes = encodeModel(
    model({
      opset: 17,
      extraImports: [{ domain: 'ai.onnx.preview.training', version: 1 }],
      nodes: [node(op, ['R', 'T', ...ins], outs, attrs, { domain: 'ai.onnx.preview.training' })],
      inputs: [valueInfo('R', DT.FLOAT, []), valueInfo('T', DT.INT64, []), ...lists.flatMap((l) => SHAPES.map((s, j) => valueInfo(`${l}${j}`, DT.FLOAT, s)))],
      outputs: outs.map((o) => valueInfo(o, DT.FLOAT)),
    }),
  );
  const inputs: Record<string, Tensor> = { R: makeTensor('f32', [], [0.05 + (seed % 7) * 0.1]), T: makeTensor('i32', [], [t]) };
  lists.forEach((l, k) =>
    SHAPES.forEach((s, j) => {
      const x = randomTensor('f32', s, seed * 31 + k * 7 + j, { edges: 0, range: 3 });
      // Accumulated squared gradients are never negative.
      inputs[`${l}${j}`] = l === 'H' ? makeTensor('f32', s, (i) => Math.abs(x.data[i]!)) : x;
    }),
  );
  await expectGpuMatchesInterpreter(importOnnx(bytes).graph, inputs, TOL);
}

describe('ai.onnx.preview.training optimizers on the adapter', () => {
  it('Adagrad', async () => {
    const attrs = { decay_factor: attrFloat(0.1), epsilon: attrFloat(1e-5), norm_coefficient: attrFloat(0.01) };
    await check('Adagrad', ['X', 'G', 'H'], attrs, 0, 1);
    await check('Adagrad', ['X', 'G', 'H'], attrs, 5, 2);
  });

  it('Momentum, standard and nesterov', async () => {
    for (const mode of ['standard', 'nesterov']) {
      const attrs = { alpha: attrFloat(0.9), beta: attrFloat(0.3), norm_coefficient: attrFloat(0.02), mode: attrString(mode) };
      await check('Momentum', ['X', 'G', 'V'], attrs, 0, 3);
      await check('Momentum', ['X', 'G', 'V'], attrs, 4, 4);
    }
  });

  it('Adam', async () => {
    const attrs = { alpha: attrFloat(0.85), beta: attrFloat(0.95), epsilon: attrFloat(1e-4), norm_coefficient: attrFloat(0.01), norm_coefficient_post: attrFloat(0.02) };
    await check('Adam', ['X', 'G', 'V', 'H'], attrs, 0, 5);
    await check('Adam', ['X', 'G', 'V', 'H'], attrs, 6, 6);
    await check('Adam', ['X', 'G', 'V', 'H'], {}, 1, 7);
  });
});
