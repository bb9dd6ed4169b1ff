// Building small ONNX models and tensors (tests and the ONNX fuzz target), encoded with the importer's own schema. Plain-object helpers
// mirror the protobuf messages (field names as in onnx.proto3), so a test reads like the model it describes.
import protobuf from 'protobufjs/light.js';
import { ONNX_DTYPE } from '../../ir/import/onnx/dtypes.js';
import { ONNX_SCHEMA } from '../../ir/import/onnx/onnx-schema.js';

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelType = root.lookupType('onnx.ModelProto');
const TensorType = root.lookupType('onnx.TensorProto');

export { ONNX_DTYPE as DT };

type Obj = Record<string, unknown>;

export const encodeModel = (m: Obj): Uint8Array => ModelType.encode(ModelType.fromObject(m)).finish();
export const encodeTensor = (t: Obj): Uint8Array => TensorType.encode(TensorType.fromObject(t)).finish();

/** A TensorProto object; `fields` holds the storage (raw_data, float_data, int32_data, ...). */
export function tensor(name: string, dataType: number, dims: readonly number[], fields: Obj): Obj {
  return { name, data_type: dataType, dims: [...dims], ...fields };
}

export const f32Tensor = (name: string, dims: readonly number[], values: readonly number[]): Obj =>
  tensor(name, ONNX_DTYPE.FLOAT, dims, { float_data: [...values] });
export const i64Tensor = (name: string, dims: readonly number[], values: readonly number[]): Obj =>
  tensor(name, ONNX_DTYPE.INT64, dims, { int64_data: [...values] });

/** Little-endian raw_data bytes written through a DataView callback. */
export function rawBytes(byteLength: number, write: (view: DataView) => void): Uint8Array {
  const buf = new Uint8Array(byteLength);
  write(new DataView(buf.buffer));
  return buf;
}

export function valueInfo(name: string, elemType: number, dims?: readonly (number | string)[]): Obj {
  const shape = dims && { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) };
  return { name, type: { tensor_type: { elem_type: elemType, ...(shape ? { shape } : {}) } } };
}

// Attribute values with an explicit kind (AttributeProto.type numbers).
export const attrInt = (i: number): Obj => ({ type: 2, i });
export const attrFloat = (f: number): Obj => ({ type: 1, f });
export const attrString = (s: string): Obj => ({ type: 3, s: new TextEncoder().encode(s) });
export const attrInts = (ints: readonly number[]): Obj => ({ type: 7, ints: [...ints] });
export const attrFloats = (floats: readonly number[]): Obj => ({ type: 6, floats: [...floats] });
export const attrTensor = (t: Obj): Obj => ({ type: 4, t });

export function node(op: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, Obj> = {}, extra: Obj = {}): Obj {
  const attribute = Object.entries(attrs).map(([name, a]) => ({ name, ...a }));
  return { op_type: op, input: [...inputs], output: [...outputs], attribute, ...extra };
}

export interface ModelSpec {
  readonly opset?: number;
  readonly nodes: readonly Obj[];
  readonly inputs: readonly Obj[];
  readonly outputs: readonly Obj[];
  readonly initializers?: readonly Obj[];
  readonly valueInfo?: readonly Obj[];
  readonly extraImports?: readonly Obj[];
  readonly irVersion?: number;
}

export function model(spec: ModelSpec): Obj {
  return {
    ir_version: spec.irVersion ?? 8,
    opset_import: [{ domain: '', version: spec.opset ?? 17 }, ...(spec.extraImports ?? [])],
    producer_name: 'kiln-tests',
    graph: {
      name: 'test',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
      value_info: spec.valueInfo ?? [],
    },
  };
}

/** A one-node model: inputs and outputs declared with the given types. */
export function singleOp(
  op: string,
  ins: readonly Obj[],
  outs: readonly Obj[],
  attrs: Record<string, Obj> = {},
  opts: { opset?: number; initializers?: readonly Obj[]; nodeInputs?: readonly string[] } = {},
): Uint8Array {
  const nodeInputs = opts.nodeInputs ?? [...ins.map((i) => i.name as string), ...(opts.initializers ?? []).map((t) => t.name as string)];
  return encodeModel(
    model({
      opset: opts.opset ?? 17,
      nodes: [node(op, nodeInputs, outs.map((o) => o.name as string), attrs, { name: `${op.toLowerCase()}_node` })],
      inputs: ins,
      outputs: outs,
      initializers: opts.initializers ?? [],
    }),
  );
}
