// Decoding ONNX protobuf messages with protobufjs and the schema generated from onnx.proto3 (onnx-schema.ts).
// Decoded messages are plain objects (int64 as numbers, bytes as Uint8Array views into the input, absent scalar
// fields undefined, repeated fields []); the interfaces below type the fields the importer reads. Decoding is
// defensive: whatever protobufjs throws on truncated or corrupted bytes becomes an OnnxImportError naming the file.
import protobuf from 'protobufjs/light.js';
import { OnnxImportError } from './errors.js';
import { ONNX_SCHEMA } from './onnx-schema.js';

export interface StringStringEntryProto {
  readonly key?: string;
  readonly value?: string;
}

export interface TensorProto {
  readonly dims: readonly number[];
  readonly data_type?: number;
  readonly float_data: readonly number[];
  readonly int32_data: readonly number[];
  readonly string_data: readonly Uint8Array[];
  readonly int64_data: readonly number[];
  readonly name?: string;
  readonly raw_data?: Uint8Array;
  readonly external_data: readonly StringStringEntryProto[];
  /** 0 DEFAULT, 1 EXTERNAL. */
  readonly data_location?: number;
  readonly double_data: readonly number[];
  readonly uint64_data: readonly number[];
  readonly segment?: unknown;
}

export interface SparseTensorProto {
  readonly values?: TensorProto;
  readonly indices?: TensorProto;
  readonly dims: readonly number[];
}

export interface DimensionProto {
  readonly dim_value?: number;
  readonly dim_param?: string;
}

export interface TypeProto {
  readonly tensor_type?: { readonly elem_type?: number; readonly shape?: { readonly dim: readonly DimensionProto[] } };
  readonly sequence_type?: unknown;
  readonly map_type?: unknown;
  readonly optional_type?: unknown;
  readonly sparse_tensor_type?: unknown;
}

export interface ValueInfoProto {
  readonly name?: string;
  readonly type?: TypeProto;
}

/** AttributeProto.AttributeType values. */
export const ATTR = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9,
  GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

export interface AttributeProto {
  readonly name?: string;
  readonly ref_attr_name?: string;
  readonly type?: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly t?: TensorProto;
  readonly g?: unknown;
  readonly sparse_tensor?: SparseTensorProto;
  readonly floats: readonly number[];
  readonly ints: readonly number[];
  readonly strings: readonly Uint8Array[];
  readonly tensors: readonly TensorProto[];
  readonly graphs: readonly unknown[];
}

export interface NodeProto {
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name?: string;
  readonly op_type?: string;
  readonly domain?: string;
  readonly attribute: readonly AttributeProto[];
}

export interface GraphProto {
  readonly node: readonly NodeProto[];
  readonly name?: string;
  readonly initializer: readonly TensorProto[];
  readonly sparse_initializer: readonly SparseTensorProto[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
  readonly value_info: readonly ValueInfoProto[];
}

export interface OperatorSetIdProto {
  readonly domain?: string;
  readonly version?: number;
}

export interface ModelProto {
  readonly ir_version?: number;
  readonly opset_import: readonly OperatorSetIdProto[];
  readonly producer_name?: string;
  readonly graph?: GraphProto;
  readonly functions: readonly unknown[];
}

let root: protobuf.Root | undefined;

function messageType(name: 'ModelProto' | 'TensorProto'): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_SCHEMA);
  return root.lookupType(`onnx.${name}`);
}

const CONVERSION: protobuf.IConversionOptions = { longs: Number, enums: Number, arrays: true, defaults: false };

function decode<T>(name: 'ModelProto' | 'TensorProto', bytes: Uint8Array, file: string, what: string): T {
  const type = messageType(name);
  try {
    return type.toObject(type.decode(bytes), CONVERSION) as T;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new OnnxImportError(`${file}: not a valid ${what}: ${reason}`);
  }
}

/** Decode a serialized ModelProto and check the fields the importer cannot do without. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  if (bytes.length === 0) throw new OnnxImportError(`${file}: not a valid ONNX model: the file is empty`);
  const model = decode<ModelProto>('ModelProto', bytes, file, 'ONNX model');
  if (!model.graph) throw new OnnxImportError(`${file}: not a valid ONNX model: it has no graph`);
  if (!model.graph.output.length) throw new OnnxImportError(`${file}: not a valid ONNX model: its graph has no outputs`);
  return model;
}

/** Decode a serialized TensorProto (the .pb files of ONNX test data). */
export function decodeTensorProto(bytes: Uint8Array, file: string): TensorProto {
  const t = decode<TensorProto>('TensorProto', bytes, file, 'ONNX TensorProto');
  if (t.data_type === undefined || t.data_type === 0)
    throw new OnnxImportError(`${file}: not a valid ONNX TensorProto: data_type is missing`);
  return t;
}
