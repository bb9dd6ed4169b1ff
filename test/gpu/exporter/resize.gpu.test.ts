// Resize with scales computed at run time, as tf2onnx emits an upsample of a symbolic-size image:
// scales = Cast(Concat(Shape(x)[0:2], Shape(x)[2:4] * 2), float) / Cast(Shape(x), float). The importer folds it
// exactly to [1,1,2,2] (ir/import/onnx/sym-fold.ts); the output size is a dim expression. Linear (align_corners)
// and cubic modes, compiled once, run at two sizes.
import { describe, expect, it } from 'vitest';
import { DT, attrInt, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../../scripts/lib/onnx-build.js';
import { expectRunsMatch, values } from './harness.js';

function upsample(mode: string, transform: string): Uint8Array {
  return encodeModel(
    model({
      opset: 11,
      nodes: [
        node('Shape', ['x'], ['shape']),
        node('Slice', ['shape', 'at0', 'at2', 'at0'], ['nc']),
        node('Slice', ['shape', 'at2', 'at4', 'at0'], ['hw']),
        node('Mul', ['hw', 'two'], ['hw2']),
        node('Concat', ['nc', 'hw2'], ['sizes'], { axis: attrInt(0) }),
        node('Cast', ['sizes'], ['sizes_f'], { to: attrInt(DT.FLOAT) }),
        node('Cast', ['shape'], ['shape_f'], { to: attrInt(DT.FLOAT) }),
        node('Div', ['sizes_f', 'shape_f'], ['scales']),
        node('Resize', ['x', 'roi', 'scales'], ['y'], { mode: attrString(mode), coordinate_transformation_mode: attrString(transform) }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, ['unk__31', 3, 'h', 'w'])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [i64Tensor('at0', [1], [0]), i64Tensor('at2', [1], [2]), i64Tensor('at4', [1], [4]), i64Tensor('two', [], [2]), f32Tensor('roi', [0], [])],
    }),
  );
}

describe('Resize with computed scales and symbolic sizes on the adapter', () => {
  it.each([
    ['linear', 'align_corners'],
    ['cubic', 'half_pixel'],
  ])('%s / %s: compiled once, run at 1 x 5 x 7 and 2 x 16 x 9', async (mode, transform) => {
    const cases = [
      [1, 5, 7],
      [2, 16, 9],
    ].map(([n, h, w], i) => ({ x: values([n!, 3, h!, w!], 30 + i) }));
    const ranges = { unk__31: { min: 1, max: 2 }, h: { min: 2, max: 16 }, w: { min: 2, max: 16 } };
    const shapes = await expectRunsMatch(upsample(mode, transform), ranges, cases, { name: `resize-${mode}` });
    expect(shapes).toEqual([[[1, 3, 10, 14]], [[2, 3, 32, 18]]]);
  }, 300_000);
});
