// Benchmark models and their inputs: a model's bytes plus one set of inputs (and, when known, expected outputs),
// from the shared models folder (models/<name>/model.onnx, reference/test_data_set_0/{input,output}_K.pb) or
// from ONNX's light CNNs (onnx-node-tests/light/light_<net>.onnx, which come with an expected output only).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type RawTensor, decodeModel, readRawTensorProto } from '../../ir/index.js';

export type { RawTensor };

export interface BenchModel {
  readonly name: string;
  /** The model file (for messages). */
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly inputs: readonly RawTensor[];
  /** Expected outputs (a reference run), when the model comes with them. */
  readonly expected?: readonly RawTensor[];
}

/** A folder of the shared material ($KILN_SHARED_DIR, else ../shared next to the repository), which must exist. */
function sharedSubdir(...parts: string[]): string {
  const shared = resolve(process.env.KILN_SHARED_DIR ?? resolve(import.meta.dirname, '../../../shared'));
  const dir = join(shared, ...parts);
  if (!existsSync(dir))
    throw new Error(`the shared folder ${parts.join('/')} is missing at ${dir}: put the shared material next to the repository or set KILN_SHARED_DIR`);
  return dir;
}

/** The shared models folder: $KILN_SHARED_DIR/models, else ../shared/models next to the repository. */
export const sharedModelsDir = (): string => sharedSubdir('models');

const pbFiles = (dir: string, prefix: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => join(dir, f));

/** models/<name>/model.onnx with the inputs and outputs of reference/test_data_set_0. */
export function loadSharedModel(name: string): BenchModel {
  const dir = join(sharedModelsDir(), name);
  const file = join(dir, 'model.onnx');
  const data = join(dir, 'reference/test_data_set_0');
  if (!existsSync(file)) throw new Error(`model ${name}: ${file} is missing`);
  if (!existsSync(data)) throw new Error(`model ${name}: no reference inputs at ${data}`);
  const bytes = new Uint8Array(readFileSync(file));
  const inputs = pbFiles(data, 'input_').map((f) => readRawTensorProto(f));
  const graphInputs = modelInputs(bytes, file);
  // A test-data .pb may carry no name; then inputs follow the graph's inputs (less initializers) in order.
  const named = inputs.map((t, k) => (t.name ? t : { ...t, name: graphInputs[k]?.name ?? `input_${k}` }));
  return { name, file, bytes, inputs: named, expected: pbFiles(data, 'output_').map((f) => readRawTensorProto(f)) };
}

/**
 * light_<net>.onnx from the shared onnx-node-tests/light folder, fed as ONNX's test runner feeds it (and as
 * test/gpu/light-cnns.gpu.test.ts does): each input arange(n).reshape(shape) / n in f32, every dynamic dim 1.
 * The expected output is light_<net>_output_0.pb, named after the graph's output (the .pb carries no name, and
 * outputs are compared by name).
 */
export function loadLightModel(net: string): BenchModel {
  const dir = sharedSubdir('onnx-node-tests', 'light');
  const file = join(dir, `light_${net}.onnx`);
  if (!existsSync(file)) throw new Error(`light model ${net}: ${file} is missing`);
  const bytes = new Uint8Array(readFileSync(file));
  const inputs = modelInputs(bytes, file).map((i): RawTensor => {
    if (i.elemType !== 1) throw new Error(`${file}: input '${i.name}' has ONNX type ${i.elemType}; the light models' runner input is f32`);
    // A dim_param (or a dim with neither field) is dynamic: 1, the runner's choice; symbolsFor then binds it.
    const dims = i.dims.map((d) => (d.dim_param || d.dim_value === undefined ? 1 : Number(d.dim_value)));
    const n = dims.reduce((a, b) => a * b, 1);
    return { name: i.name, onnxType: 1, dims, values: Float64Array.from({ length: n }, (_, k) => Math.fround(k / n)) };
  });
  const outputs = decodeModel(bytes, file).graph?.output ?? [];
  const out = join(dir, `light_${net}_output_0.pb`);
  const expected = existsSync(out) && outputs.length === 1 ? [{ ...readRawTensorProto(out), name: outputs[0]!.name ?? '' }] : undefined;
  return { name: `light-${net}`, file, bytes, inputs, ...(expected ? { expected } : {}) };
}

interface ModelInput {
  readonly name: string;
  /** ONNX TensorProto.DataType of the input (0 when undeclared). */
  readonly elemType: number;
  readonly dims: readonly { readonly dim_value?: number; readonly dim_param?: string }[];
}

/** The model's graph inputs that are not initializers. */
export function modelInputs(bytes: Uint8Array, file: string): ModelInput[] {
  const g = decodeModel(bytes, file).graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name));
  return (g?.input ?? [])
    .filter((i) => !inits.has(i.name))
    .map((i) => ({ name: i.name ?? '', elemType: i.type?.tensor_type?.elem_type ?? 0, dims: i.type?.tensor_type?.shape?.dim ?? [] }));
}

/** Bind every symbolic dim (dim_param) of the model's inputs to the size it has in `inputs` (kiln compiles static shapes). */
export function symbolsFor(model: BenchModel): Record<string, number> {
  const symbols: Record<string, number> = {};
  for (const input of modelInputs(model.bytes, model.file)) {
    const t = model.inputs.find((x) => x.name === input.name);
    if (!t) throw new Error(`${model.file}: no value for input '${input.name}'`);
    input.dims.forEach((d, k) => {
      if (d.dim_param && t.dims[k] !== undefined) symbols[d.dim_param] = t.dims[k]!;
    });
  }
  return symbols;
}
