// The small model the `kiln tune` tests compile and tune: a two-layer perceptron for one token, as ONNX (x [1, I]
// -> Gemm transB W1 [H, I] -> Relu -> Gemm transB W2 [O, H]), its weights seeded and free of zeros so no
// weight is taken for a sparse one. Two GEMV weights, small enough that a tune takes seconds on lavapipe.
import { writeFileSync } from 'node:fs';
import { DT, attrInt, encodeModel, model, node, rawBytes, tensor, valueInfo } from '../../scripts/lib/onnx-build.js';

function weight(name: string, rows: number, cols: number, seed: number): Record<string, unknown> {
  return tensor(name, DT.FLOAT, [rows, cols], {
    raw_data: rawBytes(4 * rows * cols, (v) => {
      let s = seed;
      for (let i = 0; i < rows * cols; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        v.setFloat32(4 * i, (s / 2 ** 32 - 0.5) * 0.1 + 0.001, true);
      }
    }),
  });
}

export function writeMlpOnnx(path: string, inputs = 128, hidden = 512, outputs = 256): void {
  const m = model({
    nodes: [node('Gemm', ['x', 'w1'], ['h'], { transB: attrInt(1) }), node('Relu', ['h'], ['a']), node('Gemm', ['a', 'w2'], ['y'], { transB: attrInt(1) })],
    inputs: [valueInfo('x', DT.FLOAT, [1, inputs])],
    outputs: [valueInfo('y', DT.FLOAT, [1, outputs])],
    initializers: [weight('w1', hidden, inputs, 1), weight('w2', outputs, hidden, 2)],
  });
  writeFileSync(path, encodeModel(m));
}
