// Truncated and corrupted model files: the importer either imports them (a flipped weight byte is still a model)
// or throws its own error class with a message naming the file, never anything else, and never hangs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OnnxImportError, importOnnx } from '../../ir/import/onnx/index.js';
import { sharedDir } from '../../scripts/lib/shared.js';
import { smallModel } from '../../scripts/fuzz/onnx-models.js';
import { DT, encodeModel, f32Tensor, i64Tensor, model, node, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';

const FILE = 'fuzz.onnx';

/** Import and classify; anything other than success or OnnxImportError (naming the file) fails the property. */
function importsCleanly(bytes: Uint8Array): boolean {
  const start = performance.now();
  try {
    importOnnx(bytes, { file: FILE });
  } catch (e) {
    if (!(e instanceof OnnxImportError)) throw e;
    if (!e.message.startsWith(`${FILE}: `)) throw new Error(`message does not name the file: ${e.message}`);
  }
  const ms = performance.now() - start;
  if (ms > 5000) throw new Error(`import took ${Math.round(ms)} ms`);
  return true;
}

function fuzz(name: string, original: () => Uint8Array | undefined): void {
  describe(name, () => {
    const bytes = original();
    it.runIf(bytes !== undefined)('imports as given', () => {
      expect(importOnnx(bytes!, { file: FILE }).graph.nodes.length).toBeGreaterThan(0);
    });

    it.runIf(bytes !== undefined)('survives every truncation', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: bytes!.length - 1 }), (n) => importsCleanly(bytes!.subarray(0, n))), { numRuns: 300 });
    }, 60_000);

    it.runIf(bytes !== undefined)('survives random byte flips', () => {
      const flips = fc.array(fc.tuple(fc.integer({ min: 0, max: bytes!.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
      fc.assert(
        fc.property(flips, (changes) => {
          const copy = Uint8Array.from(bytes!);
          for (const [at, value] of changes) copy[at] = value;
          return importsCleanly(copy);
        }),
        { numRuns: 400 },
      );
      // Each import is bounded (importsCleanly); the whole property only needs room on a loaded 2-core machine.
    }, 60_000);
  });
}

fuzz('a small generated model', smallModel);

const shared = sharedDir();
fuzz('mnist-8', () => (shared ? new Uint8Array(readFileSync(join(shared, 'models/mnist-8/model.onnx'))) : undefined));

it('names the file and the reason for truncated bytes', () => {
  const bytes = smallModel();
  expect(() => importOnnx(bytes.subarray(0, 40), { file: FILE })).toThrow(/^fuzz\.onnx: not a valid ONNX model: /);
});

// Found by `npm run fuzz` (onnx): each of these was an "internal error" (a kiln bug surfacing as a bare Error
// inside the importer) before the importer checked for it; now each names the node and what is wrong.
describe('refuses damaged graphs with a message naming the node', () => {
  const x = valueInfo('x', DT.FLOAT, [2, 3]);
  const y = valueInfo('y', DT.FLOAT);
  const refuse = (bytes: Uint8Array, message: string) => expect(() => importOnnx(bytes, { file: FILE })).toThrow(message);

  it('a node output that redefines a graph input, or a graph input declared twice', () => {
    const redefined = encodeModel(model({ nodes: [node('Relu', ['x'], ['x']), node('Relu', ['x'], ['y'])], inputs: [x], outputs: [y] }));
    refuse(redefined, "fuzz.onnx: node (Relu, opset 17, outputs 'x'): output 'x' is already defined (by an earlier node, a graph input, an initializer or this node)");
    refuse(encodeModel(model({ nodes: [node('Relu', ['x'], ['y'])], inputs: [x, x], outputs: [y] })), "fuzz.onnx: graph input 'x' is declared twice");
  });

  it('a shape input or an axis of floats where integers belong', () => {
    const axes = f32Tensor('axes', [1], [0.9]);
    const starts = { name: 'starts', data_type: DT.INT64, dims: [1], int64_data: [0] };
    const ends = { name: 'ends', data_type: DT.INT64, dims: [1], int64_data: [1] };
    const bytes = singleOp('Slice', [x], [y], {}, { opset: 13, initializers: [starts, ends, axes] });
    refuse(bytes, "fuzz.onnx: node 'slice_node' (Slice, opset 13, outputs 'y'): Slice axes (input 'axes') must hold integers, got 0.8999999761581421");
    const axis = f32Tensor('axis', [], [0.7]);
    refuse(singleOp('CumSum', [x], [y], {}, { initializers: [axis] }), "node 'cumsum_node' (CumSum, opset 17, outputs 'y'): CumSum axis (input 'axis') must be an integer, got 0.699999988079071");
    refuse(singleOp('Trilu', [x], [y], {}, { initializers: [f32Tensor('k', [], [1.5])] }), "Trilu k (input 'k') must be an integer, got 1.5");
    // A negative repeat reached constant folding as a negative array length (npm run fuzz, 30-minute run).
    const repeats = i64Tensor('repeats', [2], [-1, 2]);
    refuse(singleOp('Tile', [x], [y], {}, { opset: 11, initializers: [repeats] }), "node 'tile_node' (Tile, opset 11, outputs 'y'): Tile repeats [-1,2] must not be negative");
  });

  it('an op short of inputs', () => {
    refuse(encodeModel(model({ nodes: [node('Identity', [], ['y'])], inputs: [x], outputs: [y] })), "node (Identity, opset 17, outputs 'y'): Identity passes its input through, but the node has no input");
    const range = (inputs: string[], values: number[]) =>
      encodeModel(model({ nodes: [node('Range', inputs, ['y'])], inputs: [x], outputs: [y], initializers: values.map((v, i) => f32Tensor(inputs[i]!, [], [v])) }));
    refuse(range(['start'], [0]), "node (Range, opset 17, outputs 'y'): Range needs its limit input (input 1)");
    refuse(range(['start', 'limit', 'delta'], [0, Infinity, 1]), 'Range from 0 to Infinity by 1 has no finite length');
  });

  it('a required attribute missing', () => {
    refuse(singleOp('Concat', [x], [y]), "fuzz.onnx: node 'concat_node' (Concat, opset 17, outputs 'y'): Concat needs attribute 'axis' (int), which the node does not set");
    const x4 = valueInfo('x', DT.FLOAT, [1, 1, 4, 4]);
    refuse(singleOp('MaxPool', [x4], [y], { strides: { type: 7, ints: [1, 1] } }), "MaxPool needs attribute 'kernel_shape' (ints), which the node does not set");
  });
});
