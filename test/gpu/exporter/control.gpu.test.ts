// Control flow as exporters emit it, with symbolic dims: PyTorch's `if x.size(0) > 2:` becomes
// Shape -> Gather -> Greater -> If, whose condition is only known at run time; a Loop with a constant trip count
// (a scripted `for i in range(3)`) carries a [batch, 8] state. Each compiles once and runs at two or more sizes.
import { describe, expect, it } from 'vitest';
import { DT, attrInt, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../../scripts/lib/onnx-build.js';
import { expectRunsMatch, values } from './harness.js';

const graphAttr = (g: Record<string, unknown>) => ({ type: 5, g });

describe('exporter control flow with symbolic dims on the adapter', () => {
  it('If on a shape comparison (x.size(0) > 2) picks its branch per run', async () => {
    const thenG = { name: 'then', node: [node('Mul', ['x', 'two'], ['t_out'])], input: [], output: [valueInfo('t_out', DT.FLOAT, ['batch', 8])], initializer: [] };
    const elseG = { name: 'else', node: [node('Add', ['x', 'two'], ['e_out'])], input: [], output: [valueInfo('e_out', DT.FLOAT, ['batch', 8])], initializer: [] };
    const bytes = encodeModel(
      model({
        opset: 13,
        nodes: [
          node('Shape', ['x'], ['shape']),
          node('Gather', ['shape', 'zero'], ['n'], { axis: attrInt(0) }),
          node('Greater', ['n', 'limit'], ['cond']),
          node('If', ['cond'], ['branch'], { then_branch: graphAttr(thenG), else_branch: graphAttr(elseG) }),
          node('Relu', ['branch'], ['y']),
        ],
        inputs: [valueInfo('x', DT.FLOAT, ['batch', 8])],
        outputs: [valueInfo('y', DT.FLOAT, ['batch', 8])],
        initializers: [i64Tensor('zero', [], [0]), i64Tensor('limit', [], [2]), f32Tensor('two', [], [2])],
      }),
    );
    const cases = [1, 2, 3, 7].map((b, i) => ({ x: values([b, 8], 40 + i) }));
    const shapes = await expectRunsMatch(bytes, { batch: { min: 1, max: 8 } }, cases, { name: 'if-shape' });
    expect(shapes.map((s) => s[0]![0])).toEqual([1, 2, 3, 7]);
  }, 300_000);

  it('Loop with a constant trip count over a [batch, 8] state', async () => {
    const body = {
      name: 'body',
      node: [node('MatMul', ['s_in', 'w'], ['mm']), node('Tanh', ['mm'], ['s_out']), node('Identity', ['c_in'], ['c_out'])],
      input: [valueInfo('i', DT.INT64, []), valueInfo('c_in', DT.BOOL, []), valueInfo('s_in', DT.FLOAT, ['batch', 8])],
      output: [valueInfo('c_out', DT.BOOL, []), valueInfo('s_out', DT.FLOAT, ['batch', 8])],
      initializer: [],
    };
    const w = values([8, 8], 7);
    const bytes = encodeModel(
      model({
        opset: 13,
        nodes: [node('Loop', ['trips', '', 'x'], ['y'], { body: graphAttr(body) })],
        inputs: [valueInfo('x', DT.FLOAT, ['batch', 8])],
        outputs: [valueInfo('y', DT.FLOAT, ['batch', 8])],
        initializers: [i64Tensor('trips', [], [3]), f32Tensor('w', [8, 8], Array.from(w.data))],
      }),
    );
    const cases = [1, 5].map((b, i) => ({ x: values([b, 8], 50 + i) }));
    const shapes = await expectRunsMatch(bytes, { batch: { min: 1, max: 16 } }, cases, { name: 'loop-known' });
    expect(shapes.map((s) => s[0]![0])).toEqual([1, 5]);
  }, 300_000);
});
