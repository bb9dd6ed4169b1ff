// A PyTorch-style CNN exported with dynamic axes {0: batch, 2: height, 3: width}: convolutions with padding and
// stride, BatchNormalization, max pooling, a 2x upsample whose sizes PyTorch computes from the running shape
// (Shape -> Slice -> Cast -> Mul -> Floor -> Cast -> Concat -> Resize), global average pooling and
// `x.view(x.size(0), -1)` (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) before the classifier. Compiled
// once with batch 1..4 and height/width 8..64, run at two sizes.
import { describe, expect, it } from 'vitest';
import { DT, attrFloat, attrInt, attrInts, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../../scripts/lib/onnx-build.js';
import { expectRunsMatch, values } from './harness.js';

const w = (name: string, shape: number[], seed: number, scale = 1) => f32Tensor(name, shape, Array.from(values(shape, seed).data, (v) => v * scale));

function cnn(): Uint8Array {
  return encodeModel(
    model({
      opset: 13,
      nodes: [
        node('Conv', ['x', 'c1_w', 'c1_b'], ['c1'], { kernel_shape: attrInts([3, 3]), pads: attrInts([1, 1, 1, 1]) }),
        node('Relu', ['c1'], ['r1']),
        node('MaxPool', ['r1'], ['p1'], { kernel_shape: attrInts([2, 2]), strides: attrInts([2, 2]) }),
        node('Conv', ['p1', 'c2_w'], ['c2'], { kernel_shape: attrInts([3, 3]), pads: attrInts([1, 1, 1, 1]), strides: attrInts([2, 2]) }),
        node('BatchNormalization', ['c2', 'bn_g', 'bn_b', 'bn_m', 'bn_v'], ['bn'], { epsilon: attrFloat(1e-5) }),
        node('Relu', ['bn'], ['r2']),
        // F.interpolate(r2, scale_factor=2, mode='nearest') with dynamic axes.
        node('Shape', ['r2'], ['r2_shape']),
        node('Slice', ['r2_shape', 'at2', 'at4', 'at0'], ['hw']),
        node('Slice', ['r2_shape', 'at0', 'at2', 'at0'], ['nc']),
        node('Cast', ['hw'], ['hwf'], { to: attrInt(DT.FLOAT) }),
        node('Mul', ['hwf', 'two_f'], ['hw2f']),
        node('Floor', ['hw2f'], ['hw2floor']),
        node('Cast', ['hw2floor'], ['hw2'], { to: attrInt(DT.INT64) }),
        node('Concat', ['nc', 'hw2'], ['up_sizes'], { axis: attrInt(0) }),
        node('Resize', ['r2', '', '', 'up_sizes'], ['up'], { mode: attrString('nearest'), coordinate_transformation_mode: attrString('asymmetric'), nearest_mode: attrString('floor') }),
        node('Conv', ['up', 'c3_w', 'c3_b'], ['c3'], { kernel_shape: attrInts([1, 1]) }),
        node('GlobalAveragePool', ['c3'], ['gap']),
        // x.view(x.size(0), -1)
        node('Shape', ['gap'], ['gap_shape']),
        node('Gather', ['gap_shape', 'zero'], ['n']),
        node('Unsqueeze', ['n', 'at0'], ['n1']),
        node('Concat', ['n1', 'minus1'], ['flat_shape'], { axis: attrInt(0) }),
        node('Reshape', ['gap', 'flat_shape'], ['flat']),
        node('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], { transB: attrInt(1) }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, ['batch', 3, 'height', 'width'])],
      outputs: [valueInfo('logits', DT.FLOAT, ['batch', 5])],
      initializers: [
        w('c1_w', [8, 3, 3, 3], 1, 0.5),
        w('c1_b', [8], 2),
        w('c2_w', [8, 8, 3, 3], 3, 0.3),
        w('bn_g', [8], 4),
        w('bn_b', [8], 5),
        w('bn_m', [8], 6),
        f32Tensor('bn_v', [8], Array.from(values([8], 7).data, (v) => 1 + Math.abs(v))),
        w('c3_w', [8, 8, 1, 1], 8),
        w('c3_b', [8], 9),
        w('fc_w', [5, 8], 10),
        w('fc_b', [5], 11),
        i64Tensor('at0', [1], [0]),
        i64Tensor('at2', [1], [2]),
        i64Tensor('at4', [1], [4]),
        i64Tensor('zero', [], [0]),
        i64Tensor('minus1', [1], [-1]),
        f32Tensor('two_f', [], [2]),
      ],
    }),
  );
}

describe('a PyTorch-style CNN with dynamic batch, height and width on the adapter', () => {
  it('compiles once (batch 1..4, 8..64 x 8..64) and runs 1 x 8 x 13 and 3 x 33 x 64', async () => {
    const cases = [
      [1, 8, 13],
      [3, 33, 64],
    ].map(([n, h, wd], i) => ({ x: values([n!, 3, h!, wd!], 20 + i) }));
    const ranges = { batch: { min: 1, max: 4 }, height: { min: 8, max: 64 }, width: { min: 8, max: 64 } };
    const shapes = await expectRunsMatch(cnn(), ranges, cases, { name: 'cnn' });
    expect(shapes).toEqual([[[1, 5]], [[3, 5]]]);
  }, 600_000);
});
