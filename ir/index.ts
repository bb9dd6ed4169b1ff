// Public surface of the IR layer. Importing it registers all ops.
import './ops/index.js';

export * from './dtype.js';
export * from './shape.js';
export * from './types.js';
export * from './tensor.js';
export * from './graph.js';
export * from './op.js';
export * from './builder.js';
export * from './interp.js';
export * from './verify.js';
export * from './print.js';
export * from './parse.js';
export * from './import/onnx/index.js';
export * from './bind-symbols.js';
export * from './external.js';
export * from './formats/tiled-csl.js';
export * from './import/safetensors/index.js';
export * from './import/hf/index.js';
