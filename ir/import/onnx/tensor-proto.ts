// TensorProto -> values -> IR Tensor. Reads every storage field the ONNX spec allows: raw_data (little-endian,
// 4- and 2-bit types packed from the least significant bits), float_data, int32_data (which also carries int8/16,
// uint8/16, bool, the 4/2-bit types packed, and float16/bfloat16 bit patterns), int64_data, uint64_data and
// double_data, plus external data. Usable on its own: readTensorProtoFile is what `kiln run --input x=file.pb`
// calls, with the importer's narrowing rules (see dtypes.ts).
import { readFileSync } from 'node:fs';
import { type DType, intRange } from '../../dtype.js';
import { bf16FromBits, f16FromBits } from '../../../runtime/f16.js';
import { type Tensor, makeTensor } from '../../tensor.js';
import { OnnxImportError, invalid, withContext } from './errors.js';
import { ONNX_DTYPE, constantDType, onnxBits, onnxDTypeName, runtimeDType } from './dtypes.js';
import type { ExternalDataReader } from './external-data.js';
import { type TensorProto, decodeTensorProto } from './proto.js';

/** A tensor's values exactly as ONNX stores them (int64 as doubles, float16 decoded), before any narrowing. */
export interface RawTensor {
  readonly name: string;
  readonly onnxType: number;
  readonly dims: readonly number[];
  readonly values: Float64Array;
}

/** More elements than this in one tensor is taken as a corrupted dims field rather than attempted. */
const MAX_ELEMENTS = 2 ** 31;

/** IEEE binary16 and bfloat16 bits -> value: kiln's one decoder (runtime/f16.ts), under the names used here. */
export { f16FromBits as halfToNumber, bf16FromBits as bf16ToNumber };

/** Sign-extend the low `bits` of x. */
const signExtend = (x: number, bits: number): number => ((x & ((1 << bits) - 1)) ^ (1 << (bits - 1))) - (1 << (bits - 1));

/** Element `i` of sub-byte packed data, where `word(k)` gives the k-th byte (or int32_data entry) of the stream. */
function unpack(word: (k: number) => number, i: number, bits: number, signed: boolean, perWord: number): number {
  const shift = (i % perWord) * bits;
  const v = (word(Math.floor(i / perWord)) >>> shift) & ((1 << bits) - 1);
  return signed ? signExtend(v, bits) : v;
}

function fromRaw(bytes: Uint8Array, type: number, n: number, what: string): Float64Array {
  const bits = onnxBits(type)!;
  const expected = Math.ceil((n * bits) / 8);
  if (bytes.length !== expected)
    return invalid(`${what}: raw_data has ${bytes.length} bytes, expected ${expected} for ${n} ${onnxDTypeName(type)} elements`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(n);
  const T = ONNX_DTYPE;
  const read: (i: number) => number = (() => {
    switch (type) {
      case T.FLOAT: return (i) => view.getFloat32(i * 4, true);
      case T.DOUBLE: return (i) => view.getFloat64(i * 8, true);
      case T.FLOAT16: return (i) => f16FromBits(view.getUint16(i * 2, true));
      case T.BFLOAT16: return (i) => bf16FromBits(view.getUint16(i * 2, true));
      case T.INT32: return (i) => view.getInt32(i * 4, true);
      case T.UINT32: return (i) => view.getUint32(i * 4, true);
      case T.INT16: return (i) => view.getInt16(i * 2, true);
      case T.UINT16: return (i) => view.getUint16(i * 2, true);
      case T.INT8: return (i) => view.getInt8(i);
      case T.UINT8: return (i) => view.getUint8(i);
      case T.BOOL: return (i) => (view.getUint8(i) !== 0 ? 1 : 0);
      case T.INT64: return (i) => Number(view.getBigInt64(i * 8, true));
      case T.UINT64: return (i) => Number(view.getBigUint64(i * 8, true));
      default: {
        const signed = type === T.INT4 || type === T.INT2;
        return (i) => unpack((k) => bytes[k]!, i, bits, signed, 8 / bits);
      }
    }
  })();
  for (let i = 0; i < n; i++) out[i] = read(i);
  return out;
}

/** From int32_data: one element per entry, except 4-bit (two) and 2-bit (four) types, packed from the LSB. */
function fromInt32Data(data: readonly number[], type: number, n: number, what: string): Float64Array {
  const T = ONNX_DTYPE;
  const bits = onnxBits(type)!;
  const perWord = bits < 8 && data.length !== n ? 8 / bits : 1;
  if (data.length !== Math.ceil(n / perWord)) return invalid(`${what}: int32_data has ${data.length} entries for ${n} elements`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = data[Math.floor(i / perWord)]!;
    switch (type) {
      case T.FLOAT16: out[i] = f16FromBits(w & 0xffff); break;
      case T.BFLOAT16: out[i] = bf16FromBits(w); break;
      case T.BOOL: out[i] = w !== 0 ? 1 : 0; break;
      case T.INT8: out[i] = signExtend(w, 8); break;
      case T.UINT8: out[i] = w & 0xff; break;
      case T.INT16: out[i] = signExtend(w, 16); break;
      case T.UINT16: out[i] = w & 0xffff; break;
      case T.INT32: out[i] = w | 0; break;
      case T.UINT32: out[i] = w >>> 0; break;
      default: out[i] = unpack(() => w, i, bits, type === T.INT4 || type === T.INT2, perWord);
    }
  }
  return out;
}

/** The typed field a tensor of this element type may use besides raw_data and int32_data. */
function typedField(t: TensorProto, type: number): readonly number[] | undefined {
  const T = ONNX_DTYPE;
  if (type === T.FLOAT && t.float_data.length) return t.float_data;
  if (type === T.INT64 && t.int64_data.length) return t.int64_data;
  if (type === T.DOUBLE && t.double_data.length) return t.double_data;
  if ((type === T.UINT32 || type === T.UINT64) && t.uint64_data.length) return t.uint64_data;
  return undefined;
}

/** Element count of `dims`, checked to be a sane shape. */
export function checkedNumel(dims: readonly number[], what: string): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) return invalid(`${what}: invalid dimension ${d} in dims [${dims.join(',')}]`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) return invalid(`${what}: dims [${dims.join(',')}] hold ${n} elements, more than kiln handles in one tensor`);
  return n;
}

/** Decode a TensorProto's values; `external` reads data_location=EXTERNAL bytes. */
export function decodeTensorValues(t: TensorProto, what: string, external?: ExternalDataReader): RawTensor {
  const type = t.data_type ?? 0;
  const name = t.name ?? '';
  const dims = t.dims;
  const n = checkedNumel(dims, what);
  if (onnxBits(type) === undefined) runtimeDType(type, what); // throws the unsupported-dtype error
  let values: Float64Array;
  if (t.data_location === 1) {
    if (!external) return invalid(`${what}: data is stored externally, but no folder was given to read it from`);
    values = fromRaw(external(t, what), type, n, what);
  } else if (t.raw_data && t.raw_data.length > 0) values = fromRaw(t.raw_data, type, n, what);
  else if (t.int32_data.length && type !== ONNX_DTYPE.FLOAT && type !== ONNX_DTYPE.INT64 && type !== ONNX_DTYPE.DOUBLE)
    values = fromInt32Data(t.int32_data, type, n, what);
  else {
    const field = typedField(t, type);
    if (!field) {
      if (n === 0) return { name, onnxType: type, dims, values: new Float64Array(0) };
      return invalid(`${what}: ${onnxDTypeName(type)}[${dims.join(',')}] has no data in any field that ${onnxDTypeName(type)} may use`);
    }
    if (field.length !== n) return invalid(`${what}: has ${field.length} values for dims [${dims.join(',')}] (${n} elements)`);
    values = Float64Array.from(field);
  }
  return { name, onnxType: type, dims, values };
}

/** Check that integer values fit `dt` (the target of a narrowing); throws naming the tensor and first culprit. */
export function checkFits(values: ArrayLike<number>, dt: DType, from: number, what: string): void {
  const [lo, hi] = intRange(dt);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo || v > hi)
      return invalid(`${what}: ${onnxDTypeName(from)} value ${v} at index ${i} does not fit ${dt}; kiln narrows ${onnxDTypeName(from)} to ${dt}`);
  }
}

/**
 * A decoded tensor as an IR Tensor. 'constant' keeps int64 as i64 (the importer narrows when the constant becomes
 * graph data); 'runtime' narrows int64/uint64 now, failing when a value does not fit.
 */
export function tensorFromRaw(raw: RawTensor, what: string, mode: 'constant' | 'runtime', note?: (msg: string) => void): Tensor {
  const dt = mode === 'constant' ? constantDType(raw.onnxType, what) : runtimeDType(raw.onnxType, what, note);
  if (raw.onnxType === ONNX_DTYPE.UINT64 || (dt !== 'i64' && raw.onnxType === ONNX_DTYPE.INT64)) checkFits(raw.values, dt, raw.onnxType, what);
  return makeTensor(dt, raw.dims, raw.values);
}

/** Decode one TensorProto into an IR tensor (constant mode), naming it in errors. */
export function tensorFromProto(t: TensorProto, what: string, external?: ExternalDataReader): Tensor {
  return tensorFromRaw(decodeTensorValues(t, what, external), what, 'constant');
}

export interface ReadTensorOptions {
  /** External data folder (default: none; the test-data .pb files never use it). */
  readonly external?: ExternalDataReader;
  /** Receives narrowing notes (int64 -> i32 and friends). */
  readonly note?: (msg: string) => void;
}

/** Read a serialized TensorProto file with its values exactly as stored (for comparing against outputs). */
export function readRawTensorProto(path: string, options: ReadTensorOptions = {}): RawTensor {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new OnnxImportError(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const proto = decodeTensorProto(bytes, path);
  try {
    return decodeTensorValues(proto, `tensor '${proto.name ?? ''}'`, options.external);
  } catch (e) {
    throw withContext(path, e);
  }
}

/**
 * Read a serialized TensorProto file (an ONNX test-data .pb, or a `kiln run` input) as the IR tensor a graph
 * input of that type takes: int64 becomes i32 (every value must fit), double f32, int16 i32 and so on.
 */
export function readTensorProtoFile(path: string, options: ReadTensorOptions = {}): Tensor {
  const raw = readRawTensorProto(path, options);
  try {
    return tensorFromRaw(raw, `tensor '${raw.name}'`, 'runtime', options.note);
  } catch (e) {
    throw withContext(path, e);
  }
}
