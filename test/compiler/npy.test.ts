// compiler/io/npy.ts: .npy files numpy writes (versions 1 to 3, every supported dtype) read back exactly; files
// cut short, with damaged headers or unsupported content fail with an InputError naming the file.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../compiler/io/json-tensor.js';
import { readNpy } from '../../compiler/io/npy.js';
import { npyFile as npy } from '../../scripts/fuzz/npy-file.js';

const f32Bytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

describe('readNpy', () => {
  it('reads f32, i64, f16 and bool arrays of versions 1 to 3', () => {
    for (const major of [1, 2, 3]) expect(readNpy(npy('<f4', [2, 2], f32Bytes([1, -2, 0.5, 3]), major), 'a.npy')).toEqual({ dtype: 'f32', shape: [2, 2], data: Float64Array.from([1, -2, 0.5, 3]) });
    expect(readNpy(npy('<i8', [2], new Uint8Array(BigInt64Array.from([-5n, 7n]).buffer)), 'b.npy').data).toEqual(Float64Array.from([-5, 7]));
    expect(readNpy(npy('<f2', [3], new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x7c00]).buffer)), 'c.npy').data).toEqual(Float64Array.from([1, -2, Infinity]));
    expect(readNpy(npy('|b1', [], Uint8Array.from([1])), 'd.npy')).toEqual({ dtype: 'bool', shape: [], data: Float64Array.from([1]) });
  });

  it('names the file and the problem for unsupported content', () => {
    expect(() => readNpy(npy('>f4', [1], f32Bytes([1])), 'big.npy')).toThrow("big.npy: not a readable .npy file (element type >f4 is not supported");
    expect(() => readNpy(npy('toString', [1], f32Bytes([1])), 'p.npy')).toThrow('element type toString is not supported');
    expect(() => readNpy(npy('<f4', [], f32Bytes([1]), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), 'n.npy')).toThrow('shape (-1,) must list non-negative integers');
    expect(() => readNpy(npy('<f4', [4], f32Bytes([1, 2])), 'short.npy')).toThrow('expected 4 elements of <f4 but the file is too short');
    // Found by `npm run fuzz` (npy): a zero dim hid a dim over 2^53 from the size check, and the shape was returned.
    const huge = "{'descr': '|i1', 'fortran_order': False, 'shape': (0, 99999999999999999999), }";
    expect(() => readNpy(npy('|i1', [], new Uint8Array(0), 3, huge), 'huge.npy')).toThrow('huge.npy: not a readable .npy file (shape (0, 99999999999999999999) has a dim over 2^53');
    expect(() => readNpy(npy('<f4', [1], f32Bytes([1]), 9), 'v9.npy')).toThrow('format version 9.0');
  });

  it('never fails with anything but an InputError on a cut or damaged file', () => {
    const good = npy('<f4', [3, 5], f32Bytes(Array.from({ length: 15 }, (_, i) => i)), 2);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: good.length - 1 }).map((n) => good.slice(0, n)),
          fc.tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([at, byte]) => {
            const b = good.slice();
            b[at] = byte;
            return b;
          }),
        ),
        (bytes) => {
          try {
            readNpy(bytes, 'x.npy');
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
            expect((e as Error).message).toMatch(/^x\.npy: /);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
