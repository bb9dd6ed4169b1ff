// ONNX element types (TensorProto.DataType) and how each maps onto kiln's dtypes.
//
//   - direct: float, float16, bfloat16, int32, uint32, bool, int8/uint8, int4/uint4, int2/uint2;
//   - widened (exact): int16 -> i32, uint16 -> u32;
//   - narrowed: int64 -> i32 and uint64 -> u32 (constants only when every value fits, else an error; graph inputs
//     and outputs with a note, the runtime range-checks them), double -> f32 (with a note);
//   - rejected: string, complex, the float8 and float4 formats.
//
// Constants keep int64 as the IR's import-only i64 until they are materialised into the graph, so shape values
// such as Slice's INT64_MAX ends can be read into attributes before anything is narrowed.
import type { DType } from '../../dtype.js';
import { unsupported } from './errors.js';

export const ONNX_DTYPE = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22,
  FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;

const NAMES = new Map<number, string>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k.toLowerCase()]));

/** The ONNX spelling of an element type ("float", "int64", "float8e4m3fn"), for messages. */
export function onnxDTypeName(t: number): string {
  return NAMES.get(t) ?? `data type ${t}`;
}

/** Bits per element as stored in raw_data (sub-byte types pack several per byte). */
export function onnxBits(t: number): number | undefined {
  switch (t) {
    case ONNX_DTYPE.DOUBLE: case ONNX_DTYPE.INT64: case ONNX_DTYPE.UINT64:
      return 64;
    case ONNX_DTYPE.FLOAT: case ONNX_DTYPE.INT32: case ONNX_DTYPE.UINT32:
      return 32;
    case ONNX_DTYPE.FLOAT16: case ONNX_DTYPE.BFLOAT16: case ONNX_DTYPE.INT16: case ONNX_DTYPE.UINT16:
      return 16;
    case ONNX_DTYPE.INT8: case ONNX_DTYPE.UINT8: case ONNX_DTYPE.BOOL:
      return 8;
    case ONNX_DTYPE.INT4: case ONNX_DTYPE.UINT4:
      return 4;
    case ONNX_DTYPE.INT2: case ONNX_DTYPE.UINT2:
      return 2;
    default:
      return undefined;
  }
}

const DIRECT: ReadonlyMap<number, DType> = new Map<number, DType>([
  [ONNX_DTYPE.FLOAT, 'f32'], [ONNX_DTYPE.FLOAT16, 'f16'], [ONNX_DTYPE.BFLOAT16, 'bf16'], [ONNX_DTYPE.INT32, 'i32'],
  [ONNX_DTYPE.UINT32, 'u32'], [ONNX_DTYPE.BOOL, 'bool'], [ONNX_DTYPE.INT8, 'i8'], [ONNX_DTYPE.UINT8, 'u8'],
  [ONNX_DTYPE.INT4, 'i4'], [ONNX_DTYPE.UINT4, 'u4'], [ONNX_DTYPE.INT2, 'i2'], [ONNX_DTYPE.UINT2, 'u2'],
  // Widening is exact, so it needs no note.
  [ONNX_DTYPE.INT16, 'i32'], [ONNX_DTYPE.UINT16, 'u32'],
]);

/** Narrowed types: the IR dtype a value of this type becomes, and why, for the import notes. */
const NARROWED: ReadonlyMap<number, { dtype: DType; why: string }> = new Map([
  [ONNX_DTYPE.INT64, { dtype: 'i32' as DType, why: 'int64 narrowed to i32' }],
  [ONNX_DTYPE.UINT64, { dtype: 'u32' as DType, why: 'uint64 narrowed to u32' }],
  [ONNX_DTYPE.DOUBLE, { dtype: 'f32' as DType, why: 'double narrowed to f32' }],
]);

/** What to tell the user when an element type has no kiln dtype at all. */
function rejectDType(t: number, what: string): never {
  const name = onnxDTypeName(t);
  if (t === ONNX_DTYPE.STRING) return unsupported('dtype', `${what} has dtype string; kiln compiles numeric tensors only`);
  if (t === ONNX_DTYPE.COMPLEX64 || t === ONNX_DTYPE.COMPLEX128)
    return unsupported('dtype', `${what} has dtype ${name}; kiln has no complex dtypes`);
  if (NAMES.has(t) && t !== ONNX_DTYPE.UNDEFINED)
    return unsupported('dtype', `${what} has dtype ${name}; kiln has no 8-bit or 4-bit float dtypes (dequantize to float16/float32 in the model)`);
  return unsupported('dtype', `${what} has unknown element type ${t}`);
}

/**
 * The kiln dtype of a value computed at run time (graph input or output, Cast target, op result). `note`
 * receives a message when the value is narrowed.
 */
export function runtimeDType(t: number, what: string, note?: (msg: string) => void): DType {
  const direct = DIRECT.get(t);
  if (direct) return direct;
  const narrowed = NARROWED.get(t);
  if (narrowed) {
    note?.(`${what}: ${narrowed.why}`);
    return narrowed.dtype;
  }
  return rejectDType(t, what);
}

/**
 * The dtype a decoded constant is held in before materialisation: like runtimeDType, except int64 stays i64
 * (narrowed, with a range check, only when it becomes graph data).
 */
export function constantDType(t: number, what: string): DType {
  if (t === ONNX_DTYPE.INT64) return 'i64';
  if (t === ONNX_DTYPE.UINT64) return 'u32'; // range-checked by the tensor decoder
  if (t === ONNX_DTYPE.DOUBLE) return 'f32';
  return runtimeDType(t, what);
}

/** The ONNX element type of a kiln dtype (the inverse of the direct mapping; i64 is int64). */
export function onnxTypeOf(dt: DType): number | undefined {
  if (dt === 'i64') return ONNX_DTYPE.INT64;
  for (const [k, v] of DIRECT) if (v === dt && k !== ONNX_DTYPE.INT16 && k !== ONNX_DTYPE.UINT16) return k;
  return undefined;
}
