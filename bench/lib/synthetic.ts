// A synthetic ONNX model built in memory (nothing written to disk): a chain of Add -> Relu -> Mul layers over a
// [rows, cols] float tensor with per-column bias and scale. Every op has a kiln kernel today, so it exercises
// the whole benchmark (import, compile, both engines, comparison) before real models compile.
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from '../../ir/import/onnx/onnx-schema.js';
import type { BenchModel } from './inputs.js';

const FLOAT = 1;

/** Deterministic values in [-1, 1) (a small LCG), so every run benchmarks the same numbers. */
function values(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.fround(s / 2 ** 31 - 1);
  }
  return out;
}

export function syntheticModel(opts: { rows?: number; cols?: number; layers?: number } = {}): BenchModel {
  const rows = opts.rows ?? 256;
  const cols = opts.cols ?? 1024;
  const layers = opts.layers ?? 8;
  const nodes: object[] = [];
  const initializer: object[] = [];
  let prev = 'x';
  for (let k = 0; k < layers; k++) {
    const out = k === layers - 1 ? 'y' : `m${k}`;
    initializer.push({ name: `b${k}`, data_type: FLOAT, dims: [cols], float_data: Array.from(values(cols, 100 + k)) });
    initializer.push({ name: `c${k}`, data_type: FLOAT, dims: [cols], float_data: Array.from(values(cols, 200 + k), (v) => 0.5 + v * 0.5) });
    nodes.push({ op_type: 'Add', input: [prev, `b${k}`], output: [`a${k}`] });
    nodes.push({ op_type: 'Relu', input: [`a${k}`], output: [`r${k}`] });
    nodes.push({ op_type: 'Mul', input: [`r${k}`, `c${k}`], output: [out] });
    prev = out;
  }
  const io = (name: string): object => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_value: rows }, { dim_value: cols }] } } },
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'kiln-bench',
    graph: { name: 'synthetic', node: nodes, input: [io('x')], output: [io('y')], initializer },
  };
  const type = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  const bytes = type.encode(type.fromObject(model)).finish();
  const name = `synthetic-${layers}x(add,relu,mul)-${rows}x${cols}`;
  return { name, file: `<${name}>`, bytes, inputs: [{ name: 'x', onnxType: FLOAT, dims: [rows, cols], values: values(rows * cols, 1) }] };
}
