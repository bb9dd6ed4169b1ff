// Errors of the ONNX importer. Everything the importer throws is an OnnxImportError whose message starts with the
// model file (or "<bytes>"), so a CLI can print it as is. OnnxUnsupportedError marks a model that is valid ONNX
// but uses something kiln does not compile (an op, opset, dtype, attribute value, or a data-dependent shape);
// its `category` lets tools and tests group such models by reason.

export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}

export type UnsupportedCategory =
  | 'op' // no mapping for the ONNX op, or the IR op it maps to does not exist (yet)
  | 'opset' // the op's version or the model's opset is outside what kiln maps
  | 'domain' // a node outside the default ONNX domain
  | 'dtype' // an element type kiln has no dtype for, or that the op does not take
  | 'attribute' // an attribute value (mode, flag) kiln does not implement
  | 'dynamic' // a shape-like operand that is only known at run time
  | 'type' // a non-tensor value (sequence, optional, map)
  | 'output' // an optional output kiln does not produce (Dropout mask, MaxPool indices, ...)
  | 'ir'; // the IR op the node maps to rejects this particular use (its dtypes, shapes or attributes)

export class OnnxUnsupportedError extends OnnxImportError {
  override name = 'OnnxUnsupportedError';
  constructor(
    message: string,
    readonly category: UnsupportedCategory,
    /** For 'dynamic': the ONNX value that kiln needs to know at compile time. */
    readonly value?: string,
  ) {
    super(message);
  }
}

/** Throw an OnnxUnsupportedError; the message gets the conventional "unsupported: " prefix. */
export const unsupported = (category: UnsupportedCategory, message: string, value?: string): never => {
  throw new OnnxUnsupportedError(`unsupported: ${message}`, category, value);
};

/** Throw an OnnxImportError for a problem with the model itself (context is prefixed by the caller). */
export const invalid = (message: string): never => {
  throw new OnnxImportError(message);
};

/** Re-throw any error with a context prefix, keeping its class (unsupported stays unsupported). */
export function withContext(prefix: string, e: unknown): OnnxImportError {
  if (e instanceof OnnxUnsupportedError) return new OnnxUnsupportedError(`${prefix}: ${e.message}`, e.category, e.value);
  if (e instanceof OnnxImportError) return new OnnxImportError(`${prefix}: ${e.message}`, { cause: e });
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new OnnxImportError(`${prefix}: internal error: ${msg}`, { cause: e });
}
