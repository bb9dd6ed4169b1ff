// safetensors: every malformed file (truncated, a bad header length, a header that is not a JSON object of
// {dtype, shape, data_offsets} entries, bad dtypes, shapes and offsets, overlapping ranges, paths that are not
// files) fails to open with a SafetensorsError that says what is wrong.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../ir/import/safetensors/index.js';
import { entry, fresh, openError, rawError, rawFile, writeRaw } from './safetensors-fixtures.js';

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

