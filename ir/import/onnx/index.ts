// ONNX import: ModelProto -> kiln Graph (see import.ts for the pipeline and ops/*.ts for the op mapping table).
export { importOnnx, DEFAULT_SYMBOL_BOUND, type OnnxImportOptions, type OnnxImportResult } from './import.js';
export { OnnxImportError, OnnxUnsupportedError, type UnsupportedCategory } from './errors.js';
export {
  readTensorProtoFile,
  readRawTensorProto,
  decodeTensorValues,
  tensorFromProto,
  tensorFromRaw,
  type RawTensor,
  type ReadTensorOptions,
} from './tensor-proto.js';
export { decodeModel, decodeTensorProto, type ModelProto, type TensorProto } from './proto.js';
export { externalDataReader, type ExternalDataReader } from './external-data.js';
export { ONNX_DTYPE, onnxDTypeName } from './dtypes.js';
export { mappedOnnxOps, mappedVersions } from './table.js';
