// safetensors: the streaming writer and the header-only reader agree byte for byte for every format and edge
// shape, sharded checkpoints open from their index or folder, every malformed file and index fails with a
// SafetensorsError that says what is wrong, and bindWeights checks names, shapes and dtypes of params.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTERNAL_FORMATS, type ExternalFormat, FORMAT_BYTES, FORMAT_DTYPE, loadExternal } from '../../ir/external.js';
import {
  bindWeights,
  type Checkpoint,
  openCheckpoint,
  SafetensorsError,
  shardName,
  type TensorToWrite,
  writeSafetensors,
  writeShardedSafetensors,
} from '../../ir/import/safetensors/index.js';
import { interpret } from '../../ir/interp.js';
import '../../ir/ops/index.js';
import { parseKir } from '../../ir/parse.js';
import { makeTensor } from '../../ir/tensor.js';
import { haveShared, sharedDir } from '../shared.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-safetensors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A fresh path (or folder) under the test's temporary root. */
const fresh = (name: string): string => join(root, `${counter++}-${name}`);

// ---------------------------------------------------------------------------------------------------------------
// Encoding test values: independent of the decoder under test (bit patterns for the 16-bit floats are literal).

/** Values each format holds exactly (and that survive loading as FORMAT_DTYPE[format]). */
const SAMPLES: Record<ExternalFormat, readonly number[]> = {
  F64: [0, 1.5, -2.25, 1024.125, -0.0078125],
  F32: [0, 1.5, -3.75, Math.fround(3.4e38), Math.fround(1e-30)],
  F16: [0, 1, -2, 0.5, -0.25, 65504, 2 ** -14, 2 ** -24],
  BF16: [0, 1, -2, 0.5, 3, -1.5, 2 ** 100, -(2 ** -100)],
  I64: [0, -1, 2 ** 31 - 1, -(2 ** 31), 12345],
  I32: [0, -1, 2 ** 31 - 1, -(2 ** 31), 7],
  I16: [0, -1, 32767, -32768, 300],
  I8: [0, -1, 127, -128, 5],
  U8: [0, 255, 1, 128, 77],
  BOOL: [0, 1, 1, 0, 1],
};

const F16_BITS = new Map<number, number>([
  [0, 0x0000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [-0.25, 0xb400],
  [65504, 0x7bff],
  [2 ** -14, 0x0400],
  [2 ** -24, 0x0001],
]);

function encode(format: ExternalFormat, values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * FORMAT_BYTES[format]);
  const v = new DataView(bytes.buffer);
  values.forEach((x, i) => {
    switch (format) {
      case 'F64': return v.setFloat64(i * 8, x, true);
      case 'F32': return v.setFloat32(i * 4, x, true);
      case 'F16': return v.setUint16(i * 2, F16_BITS.get(x)!, true);
      case 'BF16': {
        const f32 = new DataView(new ArrayBuffer(4));
        f32.setFloat32(0, x);
        expect(f32.getUint16(2)).toBe(0); // the sample must be exact in bf16
        return v.setUint16(i * 2, f32.getUint16(0), true);
      }
      case 'I64': return v.setBigInt64(i * 8, BigInt(x), true);
      case 'I32': return v.setInt32(i * 4, x, true);
      case 'I16': return v.setInt16(i * 2, x, true);
      case 'I8': return v.setInt8(i, x);
      case 'U8':
      case 'BOOL': return v.setUint8(i, x);
    }
  });
  return bytes;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const valuesFor = (format: ExternalFormat, shape: readonly number[]) =>
  Array.from({ length: numel(shape) }, (_, i) => SAMPLES[format][i % SAMPLES[format].length]!);

/** Cut bytes into uneven chunks (1, 2, 0, 5, 3, 1, ...), so the writer sees empty and odd-sized pieces. */
function* unevenChunks(bytes: Uint8Array): Iterable<Uint8Array> {
  const sizes = [1, 2, 0, 5, 3, 1, 8, 13];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

function tensor(name: string, format: ExternalFormat, shape: number[], values = valuesFor(format, shape)): TensorToWrite & { values: number[] } {
  const bytes = encode(format, values);
  return { name, format, shape, values, chunks: () => unevenChunks(bytes) };
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-made files, for what the writer never produces.

/** 8-byte length + header (object -> JSON, string as is) + data (bytes or a count of zeros). */
function rawFile(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + dataBytes.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(dataBytes, 8 + json.length);
  return out;
}

function writeRaw(bytes: Uint8Array, name = 'raw.safetensors'): string {
  const path = fresh(name);
  writeFileSync(path, bytes);
  return path;
}

/** The SafetensorsError message opening `path` throws (the test fails if it opens, or throws something else). */
function openError(path: string): string {
  try {
    openCheckpoint(path);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as Error).message;
  }
  throw new Error(`expected opening ${path} to fail`);
}

const rawError = (header: unknown, data: Uint8Array | number = 0, headerLength?: bigint) => {
  const path = writeRaw(rawFile(header, data, headerLength));
  return { path, message: openError(path) };
};

const entry = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });

// ---------------------------------------------------------------------------------------------------------------

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

describe('malformed files', () => {
  it('file shorter than 8 bytes', () => {
    const path = writeRaw(new Uint8Array([1, 0, 0]));
    expect(openError(path)).toBe(
      `${path}: is 3 bytes, shorter than the 8-byte header length every safetensors file starts with; it is truncated or not a safetensors file`,
    );
  });

  it('header length 0, past the end of the file, or over the 100 MB bound', () => {
    expect(rawError('', 0).message).toMatch(/: header length is 0; .*corrupt or not a safetensors file/);
    expect(rawError('{}', 0, 3n).message).toMatch(/: header length 3 is more than the 2 bytes after it; the file is truncated/);
    expect(rawError('{}', 0, 100_000_000n).message).toMatch(/header length 100000000 is more than the 2 bytes after it/);
    expect(rawError('{}', 0, 100_000_001n).message).toMatch(/header length 100000001 is over the 100000000-byte limit; the file is corrupt/);
    expect(rawError('{}', 0, 2n ** 64n - 1n).message).toMatch(/header length 18446744073709551615 is over the 100000000-byte limit/);
  });

  it('header that is not UTF-8, not JSON, or not an object', () => {
    const bad = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const path = writeRaw(rawFile('', 0, 4n).slice(0, 8));
    writeFileSync(path, bad, { flag: 'a' });
    expect(openError(path)).toMatch(/header is not valid UTF-8/);
    expect(rawError('{"a": ').message).toMatch(/header is not valid JSON \(.*\); the file is corrupt or not a safetensors file/);
    expect(rawError('[1,2]').message).toMatch(/header is JSON an array, not an object mapping tensor names to \{dtype, shape, data_offsets\}/);
    expect(rawError('null').message).toMatch(/header is JSON null/);
  });

  it('__metadata__ that is not a string map', () => {
    expect(rawError({ __metadata__: ['x'] }).message).toMatch(/__metadata__ is an array, not a map of strings to strings/);
    expect(rawError({ __metadata__: { total: 5 } }).message).toMatch(/__metadata__ entry 'total' is number 5, not a string/);
  });

  it('entries that are not {dtype, shape, data_offsets}', () => {
    const { path, message } = rawError({ w: { dtype: 'F32', shape: [1] } }, 4);
    expect(message).toBe(`${path}: tensor 'w': entry is an object {"dtype":"F32","shape":[1]}, not {"dtype", "shape", "data_offsets"}; the file is corrupt`);
    expect(rawError({ w: 5 }).message).toMatch(/tensor 'w': entry is number 5/);
  });

  it('unknown and unsupported dtypes, listing the supported ones', () => {
    expect(rawError({ w: entry('F8_E4M3', [2], [0, 2]) }, 2).message).toMatch(
      /tensor 'w': dtype F8_E4M3 is not supported by kiln \(supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL\); convert the checkpoint/,
    );
    expect(rawError({ w: entry('FLOAT', [2], [0, 8]) }, 8).message).toMatch(/tensor 'w': unknown dtype "FLOAT" \(supported: F64 F32/);
  });

  it('shapes that are not non-negative safe integers', () => {
    for (const shape of [[-1], [1.5], ['2'], 3, [2 ** 53]])
      expect(rawError({ w: entry('U8', shape, [0, 0]) }).message).toMatch(/tensor 'w': shape .* is not a list of non-negative integers/);
    expect(rawError({ w: entry('F64', [2 ** 30, 2 ** 30], [0, 0]) }).message).toMatch(/has more elements than can be addressed/);
  });

  it('data_offsets that are not [begin, end] with begin <= end, or disagree with the shape', () => {
    for (const offsets of [[0], [0, 1, 2], [0, -1], [0, 0.5], '0,4', [0, 2 ** 53]])
      expect(rawError({ w: entry('U8', [4], offsets) }, 4).message).toMatch(/tensor 'w': data_offsets .* is not \[begin, end\]/);
    expect(rawError({ w: entry('U8', [0], [4, 2]) }, 4).message).toMatch(/data_offsets \[4, 2\] end before they begin/);
    expect(rawError({ w: entry('F32', [2, 2], [0, 12]) }, 16).message).toMatch(
      /tensor 'w': data_offsets \[0, 12\] span 12 bytes but F32\[2,2\] needs 16; the file is corrupt/,
    );
  });

  it('ranges outside the data section', () => {
    const { path, message } = rawError({ a: entry('U8', [4], [0, 4]), w: entry('F32', [2], [4, 12]) }, 10);
    expect(message).toBe(`${path}: tensor 'w': data_offsets [4, 12] reach past the 10-byte data section; the file is truncated (re-download or re-export it)`);
  });

  it('overlapping ranges (touching ranges, gaps and empty tensors are fine)', () => {
    expect(rawError({ a: entry('U8', [8], [0, 8]), b: entry('U8', [4], [6, 10]) }, 10).message).toMatch(
      /tensors 'a' \[0, 8\) and 'b' \[6, 10\) overlap in the data section; the file is corrupt/,
    );
    // A long tensor hides a later overlap from its immediate neighbour: [0,16) contains [12,14) after [2,4).
    expect(rawError({ long: entry('U8', [16], [0, 16]), s: entry('U8', [2], [2, 4]), t: entry('U8', [2], [12, 14]) }, 16).message).toMatch(
      /tensors 'long' \[0, 16\) and 's' \[2, 4\) overlap/,
    );
    expect(rawError({ a: entry('U8', [4], [0, 4]), b: entry('U8', [4], [0, 4]) }, 4).message).toMatch(/overlap/);
    const ok = writeRaw(rawFile({ a: entry('U8', [4], [0, 4]), b: entry('U8', [4], [4, 8]), e: entry('U8', [0], [2, 2]), c: entry('U8', [1], [9, 10]) }, 10));
    expect([...openCheckpoint(ok).tensors.keys()]).toEqual(['a', 'e', 'b', 'c']);
  });

  it('paths that are missing or not files', () => {
    const missing = fresh('nope.safetensors');
    expect(openError(missing)).toMatch(new RegExp(`^${missing}: cannot open: ENOENT`));
    const dir = fresh('empty');
    mkdirSync(dir);
    writeFileSync(join(dir, 'weights.safetensors'), rawFile({}));
    expect(openError(dir)).toBe(
      `${dir}: holds neither model.safetensors nor model.safetensors.index.json; it has weights.safetensors: pass one of those`,
    );
  });
});

describe('sharded checkpoints', () => {
  const five = () => ['a', 'b', 'c', 'd', 'e'].map((n, i) => tensor(n, 'F32', [10], valuesFor('F32', [10]).map((v) => v + i)));

  it('writes shards of at most maxShardBytes and reads them back through the index or the folder', () => {
    const dir = fresh('sharded');
    const tensors = five();
    const { indexPath, shardPaths } = writeShardedSafetensors(dir, tensors, 100, { format: 'pt' });
    expect(shardPaths.map((p) => p.slice(dir.length + 1))).toEqual([shardName(1, 3), shardName(2, 3), shardName(3, 3)]);
    expect(shardName(2, 3)).toBe('model-00002-of-00003.safetensors');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    expect(index).toEqual({
      metadata: { total_size: 200 },
      weight_map: { a: shardName(1, 3), b: shardName(1, 3), c: shardName(2, 3), d: shardName(2, 3), e: shardName(3, 3) },
    });
    for (const ckpt of [openCheckpoint(indexPath), openCheckpoint(dir)]) {
      expect(ckpt.path).toBe(indexPath);
      expect(ckpt.metadata).toEqual({ format: 'pt', total_size: '200' });
      expect([...ckpt.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
      for (const t of tensors) {
        const got = ckpt.tensors.get(t.name)!;
        expect(got.data.file).toBe(join(dir, index.weight_map[t.name]));
        expect([...loadExternal(got.data, 'f32', got.shape).data]).toEqual(t.values.map(Math.fround));
      }
    }
  });

  it('gives a tensor larger than the limit a shard of its own', () => {
    const dir = fresh('big-shards');
    const { shardPaths } = writeShardedSafetensors(dir, [tensor('s', 'U8', [10]), tensor('big', 'U8', [500]), tensor('t', 'U8', [10])], 100);
    expect(shardPaths).toHaveLength(3);
    expect([...openCheckpoint(dir).tensors.values()].map((t) => t.data.file)).toEqual(shardPaths);
  });

  it('prefers model.safetensors over the index in a folder, as Hugging Face does', () => {
    const dir = fresh('both');
    writeShardedSafetensors(dir, five(), 100);
    writeSafetensors(join(dir, 'model.safetensors'), [tensor('single', 'U8', [1])]);
    expect([...openCheckpoint(dir).tensors.keys()]).toEqual(['single']);
  });

  /** A folder with shards one.safetensors (a, b) and two.safetensors (c), and an index written as given. */
  function shardFolder(weightMap: Record<string, string>, extra?: (dir: string) => void): { dir: string; index: string } {
    const dir = fresh('manual');
    mkdirSync(dir);
    writeSafetensors(join(dir, 'one.safetensors'), [tensor('a', 'U8', [2]), tensor('b', 'U8', [2])]);
    writeSafetensors(join(dir, 'two.safetensors'), [tensor('c', 'U8', [2])]);
    extra?.(dir);
    const index = join(dir, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ metadata: { total_size: 6 }, weight_map: weightMap }));
    return { dir, index };
  }

  it('accepts an index that names shards with ./ and opens each shard once', () => {
    const { index } = shardFolder({ a: 'one.safetensors', b: 'one.safetensors', c: './two.safetensors' });
    expect([...openCheckpoint(index).tensors.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('refuses shard names that lead outside the folder', () => {
    expect(openError(shardFolder({ a: '/etc/passwd' }).index)).toMatch(/shard "\/etc\/passwd" is an absolute path; shards must be files in the index's folder/);
    expect(openError(shardFolder({ a: '../one.safetensors' }).index)).toMatch(/shard "..\/one.safetensors" climbs out with ".."/);
    expect(openError(shardFolder({ a: 'sub\\..\\..\\x.safetensors' }).index)).toMatch(/climbs out with ".."/);
    const outside = fresh('outside.safetensors');
    writeSafetensors(outside, [tensor('a', 'U8', [2])]);
    const { index } = shardFolder({ a: 'link.safetensors' }, (dir) => symlinkSync(outside, join(dir, 'link.safetensors')));
    expect(openError(index)).toMatch(new RegExp(`shard "link.safetensors" resolves to ${outside} through a symbolic link`));
  });

  it('follows links into the Hugging Face hub cache blobs folder', () => {
    const repo = fresh('models--org--name');
    const snapshot = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    writeSafetensors(join(repo, 'blobs', 'f00d'), [tensor('w', 'U8', [3])]);
    writeFileSync(join(repo, 'blobs', 'beef'), JSON.stringify({ weight_map: { w: 'model-00001-of-00001.safetensors' } }));
    symlinkSync('../../blobs/f00d', join(snapshot, 'model-00001-of-00001.safetensors'));
    symlinkSync('../../blobs/beef', join(snapshot, 'model.safetensors.index.json'));
    const ckpt = openCheckpoint(snapshot);
    expect(ckpt.tensors.get('w')!.data.file).toBe(join(snapshot, 'model-00001-of-00001.safetensors'));
  });

  it('refuses a missing shard, a tensor its shard lacks, a tensor in two shards, an index that is not one', () => {
    expect(openError(shardFolder({ a: 'one.safetensors', z: 'three.safetensors' }).index)).toMatch(
      /: shard three.safetensors is missing \(ENOENT.*\); it holds 1 of the checkpoint's tensors, download it next to the index/,
    );
    const { index } = shardFolder({ a: 'one.safetensors', q: 'one.safetensors' });
    expect(openError(index)).toBe(
      `${index}: tensor 'q': weight_map puts it in one.safetensors, but no shard holds it; the index does not match its shards (re-download them together)`,
    );
    expect(openError(shardFolder({ a: 'one.safetensors', c: 'one.safetensors', b: 'two.safetensors' }).index)).toMatch(
      /tensor 'c': weight_map puts it in one.safetensors, but it is in two.safetensors/,
    );
    const dup = shardFolder({ a: 'one.safetensors', c: 'two.safetensors' }, (dir) =>
      writeSafetensors(join(dir, 'two.safetensors'), [tensor('c', 'U8', [2]), tensor('a', 'U8', [1])]),
    );
    expect(openError(dup.index)).toMatch(/tensor 'a': is in both shards one.safetensors and two.safetensors/);
    const notIndex = fresh('x.json');
    writeFileSync(notIndex, '{"weights": {}}');
    expect(openError(notIndex)).toMatch(/has no "weight_map" object/);
    writeFileSync(notIndex, '{"weight_map": {"a": 3}}');
    expect(openError(notIndex)).toMatch(/tensor 'a': weight_map entry is 3, not a shard file name/);
    writeFileSync(notIndex, 'not json');
    expect(openError(notIndex)).toMatch(/is not valid JSON/);
  });

  it('passes a broken shard header through with the shard named', () => {
    const { dir, index } = shardFolder({ a: 'one.safetensors' });
    writeFileSync(join(dir, 'one.safetensors'), new Uint8Array(4));
    expect(openError(index)).toMatch(new RegExp(`^${join(dir, 'one.safetensors')}: is 4 bytes`));
  });
});

describe('bindWeights', () => {
  function checkpoint(): Checkpoint {
    const path = fresh('mnist-like.safetensors');
    writeSafetensors(path, [
      tensor('conv1.weight', 'F32', [8, 1, 3, 3]),
      tensor('conv1.bias', 'F32', [8], [1, 2, 3, 4, 5, 6, 7, 8]),
      tensor('half', 'F16', [4], [1, -2, 0.5, 0]),
      tensor('steps', 'I64', []),
      tensor('extra', 'U8', [1]),
    ]);
    return openCheckpoint(path);
  }

  const kir = (params: string, body = '%y = Add(%x, %x)') =>
    parseKir(`graph @g(%x: f32[4]) {\n${params}\n  ${body}\n  return %y\n}\n`, 'model.kir');

  function bindError(params: string, ckpt = checkpoint(), where?: string): string {
    try {
      bindWeights(kir(params), ckpt, where);
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      return (e as Error).message;
    }
    throw new Error('expected binding to fail');
  }

  it('gives params external data, widens F16 into f32, binds a param without source to its own name', () => {
    const ckpt = checkpoint();
    const g = parseKir(
      `graph @g(%x: f32[4]) {\n  param %w: f32[8,1,3,3] = "conv1.weight"\n  param %half: f32[4]\n  param %h16: f16[4] = "half"\n  param %steps: i32[]\n  const %k: f32[4] = [1, 1, 1, 1]\n  %y = Add(%x, %half)\n  return %y\n}\n`,
      'model.kir',
    );
    const { graph, unused } = bindWeights(g, ckpt);
    const ext = Object.fromEntries(graph.constants.map((c) => [c.name, c.external]));
    expect(ext.w).toEqual(ckpt.tensors.get('conv1.weight')!.data);
    expect(ext.half).toEqual(ckpt.tensors.get('half')!.data);
    expect(ext.h16).toEqual(ckpt.tensors.get('half')!.data);
    expect(ext.steps).toEqual(ckpt.tensors.get('steps')!.data);
    expect(ext.k).toBeUndefined();
    expect(unused).toEqual(['conv1.bias', 'extra']);
    expect(g.constants.every((c) => c.external === undefined)).toBe(true); // the input graph is not mutated
    const y = interpret(graph, { x: makeTensor('f32', [4], [10, 20, 30, 40]) }).y!;
    expect([...y.data]).toEqual([11, 18, 30.5, 40]);
  });

  it('leaves params that already have external data alone, so checkpoints can be layered', () => {
    const first = checkpoint();
    const g = kir('  param %w: f32[8,1,3,3] = "conv1.weight"\n  param %only: u8[2] = "only"');
    const second = fresh('second.safetensors');
    writeSafetensors(second, [tensor('only', 'U8', [2])]);
    const partial = bindWeights({ ...g, constants: g.constants.slice(0, 1) }, first).graph;
    const layered = bindWeights({ ...g, constants: [partial.constants[0]!, g.constants[1]!] }, openCheckpoint(second));
    expect(layered.graph.constants.map((c) => c.external?.file)).toEqual([first.path, second]);
  });

  it('reports a missing tensor with close names and a few available ones', () => {
    const msg = bindError('  param %w: f32[8,1,3,3] = "conv1.weigth"');
    expect(msg).toMatch(/^model.kir:2:3: param %w: f32\[8,1,3,3\] wants "conv1.weigth", which is not in .*mnist-like.safetensors; did you mean "conv1.weight"\?/);
    expect(msg).toMatch(/It has conv1.weight, conv1.bias, half, steps, extra\.$/);
    expect(bindError('  param %w: f32[8,1,3,3] = "model.conv1.weight"')).toMatch(/did you mean "conv1.weight"\?/);
    expect(bindError('  param %bias: f32[8]')).toMatch(/param %bias: f32\[8\] binds to its own name "bias" \(it has no = "tensor name"\), which is not in/);
    expect(bindError('  param %w: f32[1] = "zzzzzzzz"')).not.toMatch(/did you mean/);
  });

  it('reports a shape mismatch in the documented form', () => {
    const ckpt = checkpoint();
    expect(bindError('  param %w: f32[8,1,3,4] = "conv1.weight"', ckpt, 'mnist.safetensors')).toBe(
      'model.kir:2:3: param %w: f32[8,1,3,4] but conv1.weight in mnist.safetensors is F32[8,1,3,3]; fix the param\'s shape or bind another tensor',
    );
    expect(bindError('  symbol n in 1..8\n  param %w: f32[n] = "conv1.bias"', ckpt, 'm')).toMatch(
      /param %w: f32\[n\] has a symbolic shape but conv1.bias in m is F32\[8\]; declare the param with the tensor's static shape/,
    );
  });

  it('reports a dtype mismatch unless the format widens into the param', () => {
    expect(bindError('  param %w: f16[8] = "conv1.bias"', checkpoint(), 'm')).toBe(
      'model.kir:2:3: param %w: f16[8] but conv1.bias in m is F32[8]; F32 data loads as f32, so declare the param f32[8]',
    );
    expect(bindError('  param %s: f32[] = "steps"', checkpoint(), 'm')).toMatch(/I64\[\]; I64 data loads as i32, so declare the param i32\[\]/);
  });

  it('lists every problem at once', () => {
    const msg = bindError('  param %a: f32[1] = "nope"\n  param %b: i32[8] = "conv1.bias"\n  param %c: f32[4] = "half"', checkpoint(), 'm');
    const lines = msg.split('\n');
    expect(lines[0]).toBe('2 params do not bind to m:');
    expect(lines[1]).toMatch(/^  model.kir:2:3: param %a/);
    expect(lines[2]).toMatch(/^  model.kir:3:3: param %b: i32\[8\] but conv1.bias in m is F32\[8\]/);
    expect(lines).toHaveLength(3);
  });

  it('names the shard a mismatched tensor is in', () => {
    const dir = fresh('bind-sharded');
    writeShardedSafetensors(dir, [tensor('a', 'U8', [4]), tensor('b', 'U8', [4])], 4);
    const msg = bindError('  param %b: u8[5] = "b"', openCheckpoint(dir), 'ckpt');
    expect(msg).toMatch(/param %b: u8\[5\] but b in ckpt \(shard model-00002-of-00002.safetensors\) is U8\[4\]/);
  });
});
