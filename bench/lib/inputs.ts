// Benchmark models and their inputs: a model's bytes plus one set of inputs (and, when known, expected outputs),
// from the shared models folder (models/<name>/model.onnx, reference/test_data_set_0/{input,output}_K.pb).
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

/** The shared models folder: $KILN_SHARED_DIR/models, else ../shared/models next to the repository. */
export function sharedModelsDir(): string {
  const shared = resolve(process.env.KILN_SHARED_DIR ?? resolve(import.meta.dirname, '../../../shared'));
  const dir = join(shared, 'models');
  if (!existsSync(dir))
    throw new Error(`the shared models folder is missing at ${dir}: put the shared material next to the repository or set KILN_SHARED_DIR`);
  return dir;
}

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

interface ModelInput {
  readonly name: string;
  readonly dims: readonly { readonly dim_value?: number; readonly dim_param?: string }[];
}

/** The model's graph inputs that are not initializers. */
export function modelInputs(bytes: Uint8Array, file: string): ModelInput[] {
  const g = decodeModel(bytes, file).graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name));
  return (g?.input ?? [])
    .filter((i) => !inits.has(i.name))
    .map((i) => ({ name: i.name ?? '', dims: i.type?.tensor_type?.shape?.dim ?? [] }));
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
