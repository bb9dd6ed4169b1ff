// safetensors: the streaming writer and the header-only reader agree byte for byte for every format and edge
// shape, and the real mnist.safetensors opens and binds. The other parts: safetensors-malformed.test.ts (every
// malformed file fails with a SafetensorsError that says what is wrong), safetensors-sharded.test.ts (sharded
// checkpoints from their index or folder), safetensors-bind.test.ts (bindWeights checks names, shapes and dtypes
// of params); the shared fixtures are in safetensors-fixtures.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTERNAL_FORMATS, FORMAT_BYTES, FORMAT_DTYPE, loadExternal } from '../../ir/external.js';
import { bindWeights, openCheckpoint, SafetensorsError, type TensorToWrite, writeSafetensors } from '../../ir/import/safetensors/index.js';
import { interpret } from '../../ir/interp.js';
import '../../ir/ops/index.js';
import { parseKir } from '../../ir/parse.js';
import { makeTensor } from '../../ir/tensor.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { entry, fresh, numel, rawFile, root, tensor, writeRaw } from './safetensors-fixtures.js';

describe('writer and reader round trip', () => {
  it('stores every format and edge shape so that loadExternal gets the values back', () => {
    const shapes: number[][] = [[], [0], [3], [2, 3], [0, 5], [1, 1, 1, 1, 7]];
    const tensors = EXTERNAL_FORMATS.flatMap((f) => shapes.map((s) => tensor(`${f}/[${s.join(',')}]`, f, s)));
    const path = fresh('all.safetensors');
    writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode ✓' });

    const ckpt = openCheckpoint(path);
    expect(ckpt.path).toBe(path);
    expect(ckpt.metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect([...ckpt.tensors.keys()]).toEqual(tensors.map((t) => t.name)); // file order = given order
    for (const t of tensors) {
      const got = ckpt.tensors.get(t.name)!;
      expect(got.format).toBe(t.format);
      expect(got.shape).toEqual(t.shape);
      expect(got.dtype).toBe(FORMAT_DTYPE[t.format]);
      expect(got.data).toMatchObject({ file: path, bytes: numel(t.shape) * FORMAT_BYTES[t.format], format: t.format, name: t.name });
      const loaded = loadExternal(got.data, got.dtype, got.shape);
      expect([...loaded.data], t.name).toEqual(t.values);
    }
  });

  it('lays the file out as the spec says: padded header, offsets relative to the data, tensors in order', () => {
    const a = tensor('10', 'F32', [3]);
    const b = tensor('2', 'U8', [5]);
    const c = tensor('a.b', 'I16', [2]);
    const path = fresh('layout.safetensors');
    writeSafetensors(path, [a, b, c]);
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
    expect(headerText.trimEnd()).toBe(
      '{"10":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"2":{"dtype":"U8","shape":[5],"data_offsets":[12,17]},"a.b":{"dtype":"I16","shape":[2],"data_offsets":[17,21]}}',
    );
    expect(headerText.slice(headerText.trimEnd().length)).toMatch(/^ *$/); // padding is spaces
    expect(bytes.length).toBe(8 + headerLength + 21);
    const ckpt = openCheckpoint(path);
    expect([...ckpt.tensors.keys()]).toEqual(['10', '2', 'a.b']); // integer-like names keep their place
    expect(ckpt.tensors.get('2')!.data.offset).toBe(8 + headerLength + 12);
    expect([...bytes.subarray(8 + headerLength + 12, 8 + headerLength + 17)]).toEqual(b.values);
  });

  it('round-trips a big-ish tensor written in 4 KiB chunks', () => {
    const shape = [300, 1001];
    const count = numel(shape);
    const path = fresh('big.safetensors');
    const chunkElems = 1024;
    writeSafetensors(path, [
      {
        name: 'big',
        format: 'F32',
        shape,
        *chunks() {
          for (let at = 0; at < count; at += chunkElems) {
            const n = Math.min(chunkElems, count - at);
            const chunk = new Float32Array(n);
            for (let i = 0; i < n; i++) chunk[i] = (at + i) * 0.5;
            yield new Uint8Array(chunk.buffer);
          }
        },
      },
    ]);
    const t = openCheckpoint(path).tensors.get('big')!;
    expect(t.data.bytes).toBe(count * 4);
    const loaded = loadExternal(t.data, 'f32', t.shape);
    for (const i of [0, 1, 1023, 1024, 150_000, count - 1]) expect(loaded.data[i]).toBe(i * 0.5);
  });

  it('writes each chunk as it comes instead of collecting the tensor first', () => {
    const dir = fresh('stream');
    mkdirSync(dir);
    const path = join(dir, 'stream.safetensors');
    const sizesSeen: number[] = [];
    const partialSize = () => {
      const partial = readdirSync(dir).find((f) => f !== 'stream.safetensors');
      return partial ? statSync(join(dir, partial)).size : -1;
    };
    writeSafetensors(path, [
      {
        name: 'x',
        format: 'U8',
        shape: [4, 1000],
        *chunks() {
          for (let k = 0; k < 4; k++) {
            sizesSeen.push(partialSize());
            yield new Uint8Array(1000).fill(k);
          }
        },
      },
    ]);
    // Before chunk k is produced, the k chunks before it are already in the file (after the 8 + header bytes).
    const dataStart = openCheckpoint(path).tensors.get('x')!.data.offset;
    expect(sizesSeen).toEqual([0, 1, 2, 3].map((k) => dataStart + k * 1000));
    expect(readdirSync(dir)).toEqual(['stream.safetensors']); // the partial file was renamed
  });

  it('refuses chunks that give too few or too many bytes, and leaves no file (nor damages the old one)', () => {
    const path = fresh('short.safetensors');
    const short: TensorToWrite = { name: 'w', format: 'F32', shape: [2, 2], chunks: () => [new Uint8Array(12)] };
    expect(() => writeSafetensors(path, [short])).toThrow(/tensor 'w': its chunks give 12 bytes, but F32\[2,2\] needs 16/);
    expect(existsSync(path)).toBe(false);

    writeSafetensors(path, [tensor('old', 'U8', [2])]);
    const before = readFileSync(path);
    const long: TensorToWrite = { name: 'w', format: 'I16', shape: [3], chunks: () => [new Uint8Array(4), new Uint8Array(4)] };
    expect(() => writeSafetensors(path, [long])).toThrow(/tensor 'w': its chunks give more than the 6 bytes of I16\[3\]/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(root).filter((f) => f.includes('short.safetensors.'))).toEqual([]);
  });

  it('refuses duplicate and reserved tensor names and bad shapes', () => {
    const w = tensor('w', 'U8', [1]);
    expect(() => writeSafetensors(fresh('dup.safetensors'), [w, w])).toThrow(/tensor 'w': is given twice/);
    expect(() => writeSafetensors(fresh('meta.safetensors'), [tensor('__metadata__', 'U8', [1])])).toThrow(/reserves for metadata/);
    const bad: TensorToWrite = { name: 'b', format: 'U8', shape: [-1], chunks: () => [] };
    expect(() => writeSafetensors(fresh('neg.safetensors'), [bad])).toThrow(SafetensorsError);
  });

  it('reads only the header: an 8 GB (sparse) checkpoint opens at once', () => {
    const path = writeRaw(rawFile({ huge: entry('F32', [2 ** 31], [0, 2 ** 33]) }), 'sparse.safetensors');
    truncateSync(path, statSync(path).size + 2 ** 33);
    const started = performance.now();
    const t = openCheckpoint(path).tensors.get('huge')!;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(t.data.bytes).toBe(2 ** 33);
  });

  it('opens files it did not write: header in any order, unpadded, with gaps between tensors', () => {
    const data = new Uint8Array(40);
    new DataView(data.buffer).setFloat32(20, 2.5, true);
    new DataView(data.buffer).setFloat32(24, -1, true);
    const path = writeRaw(
      rawFile({ b: entry('F32', [2], [20, 28]), __metadata__: { k: 'v' }, a: entry('U8', [4], [0, 4]), e: entry('F32', [0], [30, 30]) }, data),
    );
    const ckpt = openCheckpoint(path);
    expect([...ckpt.tensors.keys()]).toEqual(['a', 'b', 'e']); // data order, not header order
    expect(ckpt.metadata).toEqual({ k: 'v' });
    const b = ckpt.tensors.get('b')!;
    expect([...loadExternal(b.data, 'f32', b.shape).data]).toEqual([2.5, -1]);
  });
});

describe('the real mnist.safetensors (shared material)', () => {
  const file = haveShared() ? join(sharedDir()!, 'models/burn-mnist-safetensors/mnist.safetensors') : '';
  it.skipIf(!haveShared())('lists conv1.weight F32 [8,1,3,3] and two I64 scalars, reading only the header', () => {
    const ckpt = openCheckpoint(file);
    expect(ckpt.tensors.size).toBe(20);
    expect(ckpt.metadata).toEqual({});
    const conv1 = ckpt.tensors.get('conv1.weight')!;
    expect(conv1).toMatchObject({ format: 'F32', shape: [8, 1, 3, 3], dtype: 'f32' });
    expect(conv1.data).toMatchObject({ file, offset: 8 + 1520 + 48, bytes: 288 });
    const scalars = [...ckpt.tensors.values()].filter((t) => t.format === 'I64');
    expect(scalars.map((t) => [t.name, t.shape])).toEqual([
      ['norm1.num_batches_tracked', []],
      ['norm2.num_batches_tracked', []],
    ]);
    expect(ckpt.tensors.get('fc1.weight')!.shape).toEqual([32, 11616]);

    // The offset points at the right bytes: compare with a plain read of the file.
    const bytes = readFileSync(file);
    const loaded = loadExternal(conv1.data, 'f32', conv1.shape);
    for (let i = 0; i < 72; i++) expect(loaded.data[i]).toBe(bytes.readFloatLE(conv1.data.offset + i * 4));
  });

  it.skipIf(!haveShared())('binds a .kir param to it by name and interprets with the loaded weights', () => {
    const g = parseKir(`graph @g(%x: f32[8]) {\n  param %b: f32[8] = "conv1.bias"\n  %y = Add(%x, %b)\n  return %y\n}\n`, 'mnist.kir');
    const { graph, unused } = bindWeights(g, openCheckpoint(file));
    expect(unused).toHaveLength(19);
    const y = interpret(graph, { x: makeTensor('f32', [8], new Array(8).fill(0)) }).y!;
    const bytes = readFileSync(file);
    const bias = graph.constants[0]!.external!;
    expect([...y.data]).toEqual(Array.from({ length: 8 }, (_, i) => bytes.readFloatLE(bias.offset + i * 4)));
  });
});

