// Truncated and corrupted model files: the importer either imports them (a flipped weight byte is still a model)
// or throws its own error class with a message naming the file, never anything else, and never hangs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OnnxImportError, importOnnx } from '../../ir/import/onnx/index.js';
import { sharedDir } from '../shared.js';
import { DT, attrInts, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from './onnx-build.js';

/** A small conv net with every kind of field the importer reads: initializers, attributes, a shape input. */
function smallModel(): Uint8Array {
  return encodeModel(
    model({
      opset: 13,
      nodes: [
        node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: attrInts([3, 3]), pads: attrInts([1, 1, 1, 1]), auto_pad: attrString('NOTSET') }, { name: 'conv' }),
        node('Relu', ['c'], ['r']),
        node('MaxPool', ['r'], ['p'], { kernel_shape: attrInts([2, 2]), strides: attrInts([2, 2]) }),
        node('Shape', ['p'], ['s']),
        node('Reshape', ['p', 'flat'], ['f']),
        node('MatMul', ['f', 'fc'], ['y']),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [1, 1, 4, 4])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 2])],
      initializers: [
        f32Tensor('w', [2, 1, 3, 3], Array.from({ length: 18 }, (_, i) => i / 10)),
        f32Tensor('b', [2], [0.5, -0.5]),
        i64Tensor('flat', [2], [1, -1]),
        f32Tensor('fc', [8, 2], Array.from({ length: 16 }, (_, i) => i)),
      ],
    }),
  );
}

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
