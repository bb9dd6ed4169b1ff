// TensorProto decoding: every storage field the ONNX spec allows, the narrowing rules, and clear errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  OnnxImportError,
  OnnxUnsupportedError,
  decodeTensorProto,
  decodeTensorValues,
  readRawTensorProto,
  readTensorProtoFile,
  tensorFromProto,
} from '../../ir/import/onnx/index.js';
import { DT, encodeTensor, rawBytes, tensor } from '../../scripts/lib/onnx-build.js';

/** Encode, decode and convert as a constant (int64 stays i64), the path initializers take. */
function constant(t: Record<string, unknown>) {
  return tensorFromProto(decodeTensorProto(encodeTensor(t), 't.pb'), 'tensor t');
}

/** Write a TensorProto to a temp file and read it back as a graph-input tensor (runtime narrowing). */
function viaFile(t: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-tp-'));
  const path = join(dir, 'x.pb');
  writeFileSync(path, encodeTensor(t));
  return { path, tensor: readTensorProtoFile(path) };
}

const values = (t: { data: Float64Array }): number[] => [...t.data];

describe('raw_data (little-endian)', () => {
  it('reads float32, float16, bfloat16 and narrows double to f32', () => {
    const f32 = rawBytes(8, (v) => [1.5, -2.25].forEach((x, i) => v.setFloat32(i * 4, x, true)));
    expect(values(constant(tensor('t', DT.FLOAT, [2], { raw_data: f32 })))).toEqual([1.5, -2.25]);
    // 0x3c00 = 1, 0xc000 = -2, 0x7c00 = inf, 0x0001 = smallest subnormal.
    const f16 = rawBytes(8, (v) => [0x3c00, 0xc000, 0x7c00, 0x0001].forEach((x, i) => v.setUint16(i * 2, x, true)));
    const h = constant(tensor('t', DT.FLOAT16, [4], { raw_data: f16 }));
    expect(h.dtype).toBe('f16');
    expect(values(h)).toEqual([1, -2, Infinity, 2 ** -24]);
    const bf = rawBytes(4, (v) => [0x3fc0, 0xc040].forEach((x, i) => v.setUint16(i * 2, x, true)));
    const b = constant(tensor('t', DT.BFLOAT16, [2], { raw_data: bf }));
    expect([b.dtype, ...values(b)]).toEqual(['bf16', 1.5, -3]);
    const f64 = rawBytes(16, (v) => [0.1, 1e300].forEach((x, i) => v.setFloat64(i * 8, x, true)));
    const d = constant(tensor('t', DT.DOUBLE, [2], { raw_data: f64 }));
    expect([d.dtype, ...values(d)]).toEqual(['f32', Math.fround(0.1), Infinity]);
  });

  it('reads the integer types, widening int16/uint16 to 32 bits', () => {
    const cases: [number, string, number, (v: DataView, i: number, x: number) => void, number[]][] = [
      [DT.INT8, 'i8', 1, (v, i, x) => v.setInt8(i, x), [-128, 127]],
      [DT.UINT8, 'u8', 1, (v, i, x) => v.setUint8(i, x), [0, 255]],
      [DT.INT16, 'i32', 2, (v, i, x) => v.setInt16(i * 2, x, true), [-32768, 32767]],
      [DT.UINT16, 'u32', 2, (v, i, x) => v.setUint16(i * 2, x, true), [0, 65535]],
      [DT.INT32, 'i32', 4, (v, i, x) => v.setInt32(i * 4, x, true), [-(2 ** 31), 2 ** 31 - 1]],
      [DT.UINT32, 'u32', 4, (v, i, x) => v.setUint32(i * 4, x, true), [0, 2 ** 32 - 1]],
      [DT.BOOL, 'bool', 1, (v, i, x) => v.setUint8(i, x), [0, 1]],
    ];
    for (const [type, dtype, size, set, xs] of cases) {
      const t = constant(tensor('t', type, [2], { raw_data: rawBytes(2 * size, (v) => xs.forEach((x, i) => set(v, i, x))) }));
      expect([t.dtype, ...values(t)]).toEqual([dtype, ...xs]);
    }
  });

  it('keeps int64 constants wide and narrows int64/uint64 graph data when the values fit', () => {
    const i64 = rawBytes(16, (v) => [-5n, 9007199254740991n].forEach((x, i) => v.setBigInt64(i * 8, x, true)));
    const c = constant(tensor('t', DT.INT64, [2], { raw_data: i64 }));
    expect([c.dtype, ...values(c)]).toEqual(['i64', -5, 9007199254740991]);
    const small = rawBytes(16, (v) => [-5n, 7n].forEach((x, i) => v.setBigInt64(i * 8, x, true)));
    const r = viaFile(tensor('t', DT.INT64, [2], { raw_data: small })).tensor;
    expect([r.dtype, ...values(r)]).toEqual(['i32', -5, 7]);
    const u64 = rawBytes(8, (v) => v.setBigUint64(0, 4000000000n, true));
    const u = constant(tensor('t', DT.UINT64, [1], { raw_data: u64 }));
    expect([u.dtype, ...values(u)]).toEqual(['u32', 4000000000]);
  });

  it('unpacks int4/uint4 (two per byte) and int2/uint2 (four per byte) from the low bits up', () => {
    const b4 = Uint8Array.of(0x8f, 0x07); // nibbles: 0xf, 0x8, 0x7
    expect(values(constant(tensor('t', DT.INT4, [3], { raw_data: b4 })))).toEqual([-1, -8, 7]);
    expect(values(constant(tensor('t', DT.UINT4, [3], { raw_data: b4 })))).toEqual([15, 8, 7]);
    const b2 = Uint8Array.of(0b11_10_01_00, 0b10); // 0, 1, 2, 3, 2
    expect(values(constant(tensor('t', DT.INT2, [5], { raw_data: b2 })))).toEqual([0, 1, -2, -1, -2]);
    expect(values(constant(tensor('t', DT.UINT2, [5], { raw_data: b2 })))).toEqual([0, 1, 2, 3, 2]);
    expect(constant(tensor('t', DT.INT4, [3], { raw_data: b4 })).dtype).toBe('i4');
  });

  it('rejects raw_data of the wrong length, naming the tensor', () => {
    expect(() => constant(tensor('t', DT.FLOAT, [3], { raw_data: new Uint8Array(8) }))).toThrow(
      /tensor t: raw_data has 8 bytes, expected 12 for 3 float elements/,
    );
  });
});

describe('typed fields', () => {
  it('reads float_data, int64_data, double_data and uint64_data', () => {
    expect(values(constant(tensor('t', DT.FLOAT, [2, 1], { float_data: [0.5, -1] })))).toEqual([0.5, -1]);
    expect(values(constant(tensor('t', DT.INT64, [3], { int64_data: [1, -2, 2 ** 40] })))).toEqual([1, -2, 2 ** 40]);
    const d = constant(tensor('t', DT.DOUBLE, [1], { double_data: [2.5] }));
    expect([d.dtype, ...values(d)]).toEqual(['f32', 2.5]);
    expect(values(constant(tensor('t', DT.UINT32, [2], { uint64_data: [7, 2 ** 32 - 1] })))).toEqual([7, 2 ** 32 - 1]);
    expect(values(constant(tensor('t', DT.UINT64, [1], { uint64_data: [9] })))).toEqual([9]);
  });

  it('reads int32_data for every type that uses it', () => {
    const cases: [number, number[], number[]][] = [
      [DT.INT32, [-7, 7], [-7, 7]],
      [DT.INT8, [-128, 5], [-128, 5]],
      [DT.UINT8, [255, 0], [255, 0]],
      [DT.INT16, [-300, 300], [-300, 300]],
      [DT.UINT16, [65535, 1], [65535, 1]],
      [DT.BOOL, [1, 0], [1, 0]],
      [DT.FLOAT16, [0x3c00, 0xbc00], [1, -1]], // bit patterns
      [DT.BFLOAT16, [0x3f80, 0x4000], [1, 2]],
    ];
    for (const [type, stored, want] of cases) expect(values(constant(tensor('t', type, [2], { int32_data: stored })))).toEqual(want);
    // 4-bit types pack two per entry, 2-bit four per entry, low bits first.
    expect(values(constant(tensor('t', DT.INT4, [3], { int32_data: [0x8f, 0x07] })))).toEqual([-1, -8, 7]);
    expect(values(constant(tensor('t', DT.UINT2, [5], { int32_data: [0b11_10_01_00, 0b01] })))).toEqual([0, 1, 2, 3, 1]);
  });

  it('accepts an empty tensor without data, and rejects a non-empty one without data or with a wrong count', () => {
    expect(constant(tensor('t', DT.FLOAT, [0, 3], {})).shape).toEqual([0, 3]);
    expect(() => constant(tensor('t', DT.FLOAT, [2], {}))).toThrow(/tensor t: float\[2\] has no data/);
    expect(() => constant(tensor('t', DT.FLOAT, [3], { float_data: [1, 2] }))).toThrow(/has 2 values for dims \[3\]/);
  });
});

describe('narrowing and unsupported dtypes', () => {
  it('fails when an int64 graph value does not fit i32, naming the tensor and file', () => {
    const big = rawBytes(8, (v) => v.setBigInt64(0, 1n << 40n, true));
    expect(() => viaFile(tensor('ids', DT.INT64, [1], { raw_data: big }))).toThrow(
      /x\.pb: tensor 'ids': int64 value 1099511627776 at index 0 does not fit i32/,
    );
    expect(() => constant(tensor('t', DT.UINT64, [1], { uint64_data: [2 ** 40] }))).toThrow(/does not fit u32/);
  });

  it('rejects float8, float4, string and complex with an unsupported-dtype error', () => {
    const bad: [number, RegExp][] = [
      [DT.FLOAT8E4M3FN, /float8e4m3fn.*no 8-bit or 4-bit float/],
      [DT.FLOAT4E2M1, /float4e2m1/],
      [DT.STRING, /string; kiln compiles numeric tensors only/],
      [DT.COMPLEX64, /complex64; kiln has no complex dtypes/],
    ];
    for (const [type, msg] of bad) {
      let err: unknown;
      try {
        constant(tensor('t', type, [1], { raw_data: new Uint8Array(8) }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OnnxUnsupportedError);
      expect((err as OnnxUnsupportedError).category).toBe('dtype');
      expect(String(err)).toMatch(msg);
    }
  });

  it('reads raw values without narrowing for comparisons', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tp-'));
    writeFileSync(join(dir, 'y.pb'), encodeTensor(tensor('y', DT.DOUBLE, [2], { double_data: [0.1, 2 ** 60] })));
    const raw = readRawTensorProto(join(dir, 'y.pb'));
    expect([raw.name, raw.onnxType, [...raw.values]]).toEqual(['y', DT.DOUBLE, [0.1, 2 ** 60]]);
    expect([...decodeTensorValues(decodeTensorProto(encodeTensor(tensor('z', DT.INT64, [1], { int64_data: [-3] })), 'z'), 'z').values]).toEqual([-3]);
  });

  it('reports unreadable or corrupted files as OnnxImportError naming the file', () => {
    expect(() => readTensorProtoFile('/nonexistent/x.pb')).toThrow(/\/nonexistent\/x\.pb: cannot read: ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tp-'));
    const bytes = encodeTensor(tensor('y', DT.FLOAT, [4], { float_data: [1, 2, 3, 4] }));
    writeFileSync(join(dir, 'cut.pb'), bytes.subarray(0, bytes.length - 6)); // into the packed float_data
    expect(() => readTensorProtoFile(join(dir, 'cut.pb'))).toThrow(OnnxImportError);
    expect(() => readTensorProtoFile(join(dir, 'cut.pb'))).toThrow(/cut\.pb: not a valid ONNX TensorProto: /);
  });
});
