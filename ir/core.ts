// The IR core: dtypes, shapes, tensor types, Graph/Node/Value, op definitions (all registered on import), the
// builder, verifier, printer, parser and reference interpreter. It loads in a browser: nothing here reaches
// node:fs or protobufjs (test/layers.test.ts bundles it for the browser to keep it so).
//
// The Node-side surface is ir/index.ts: this plus the importers (ONNX, safetensors, Hugging Face) and external
// weights read from files, whose loader it installs for the interpreter. Elsewhere an external constant needs a
// loader passed to interpret (InterpretOptions.loadExternal).
import './ops/index.js';

export * from './dtype.js';
export * from './shape.js';
export * from './dim.js';
export * from './types.js';
export * from './tensor.js';
export * from './graph.js';
export * from './op.js';
export * from './builder.js';
export * from './interp.js';
export * from './region.js';
export * from './verify.js';
export * from './print.js';
export * from './parse.js';
export * from './bind-symbols.js';
export * from './matmul-operands.js';
export { nodeScalarFn } from './ops/elementwise.js';
export * from './formats/tiled-csl.js';
