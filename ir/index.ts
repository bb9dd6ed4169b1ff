// Public surface of the IR layer in Node: the browser-safe IR core (ir/core.ts; importing it registers all ops)
// plus what reads files or protobuf: the importers (ONNX, safetensors, Hugging Face) and external weights, whose
// module installs the interpreter's file loader for external constants.
export * from './core.js';
export * from './external.js';
export * from './import/onnx/index.js';
export * from './import/safetensors/index.js';
export * from './import/hf/index.js';
