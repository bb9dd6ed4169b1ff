// Running one ONNX backend node-test case: import, interpret, compare with the expected outputs. Shared by the
// conformance test, the model tests, scripts/conformance.ts and anyone debugging a single case.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interpret } from '../../ir/interp.js';
import type { Graph } from '../../ir/graph.js';
import {
  OnnxUnsupportedError,
  decodeModel,
  importOnnx,
  readRawTensorProto,
  readTensorProtoFile,
  tensorFromRaw,
} from '../../ir/import/onnx/index.js';
import type { Tensor } from '../../ir/tensor.js';

export interface CaseResult {
  readonly name: string;
  readonly status: 'pass' | 'unsupported' | 'fail';
  /** The unsupported error's category, for the summary. */
  readonly category?: string;
  readonly message?: string;
  /** Graph inputs fixed to their test values because kiln needs them at compile time. */
  readonly frozen?: readonly string[];
}

export const RTOL = 1e-3;
export const ATOL = 1e-7;

/**
 * Cases whose stored outputs carry float32 rounding noise where the exact result is 0, beyond ATOL for any accurate
 * implementation: numpy's float32 inverse FFT leaves 1.9e-7 at exact zeros (kiln's f64-built basis gives ~3e-15).
 * ONNX's own reference-evaluator backend test loosens atol to 1e-6 for these (onnx/test/
 * reference_evaluator_backend_test.py); no other case gets a looser bound.
 */
const CASE_ATOL: Readonly<Record<string, number>> = { test_dft_inverse: 1e-6, test_dft_inverse_opset19: 1e-6 };

/** Compare by value: expected as stored (int64, double, float16...), actual as kiln computed it. */
export function compareValues(actual: Tensor, expected: { dims: readonly number[]; values: Float64Array }, rtol = RTOL, atol = ATOL): string | undefined {
  if (actual.shape.join(',') !== expected.dims.join(',')) return `shape [${actual.shape.join(',')}] vs expected [${expected.dims.join(',')}]`;
  for (let i = 0; i < expected.values.length; i++) {
    const a = actual.data[i]!;
    const e = expected.values[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return `index ${i}: got ${a}, want ${e}`;
      continue;
    }
    if (a === e) continue;
    if (!Number.isFinite(a) || !Number.isFinite(e) || Math.abs(a - e) > atol + rtol * Math.abs(e)) return `index ${i}: got ${a}, want ${e}`;
  }
  return undefined;
}

/**
 * Import a case. Many cases feed shape-like operands (Reshape's shape, Resize's scales) as graph inputs, which
 * kiln must know at compile time: when the importer says so (a 'dynamic' error naming a graph input), that input
 * is fixed to its test value through the inputValues option and the import retried, which is what a user
 * compiling such a model does. `frozen` lists the inputs fixed this way.
 */
function importCase(dir: string, inputNames: readonly string[]): { graph?: Graph; frozen: string[]; error?: unknown } {
  const values: Record<string, Tensor> = {};
  for (;;) {
    try {
      return { graph: importOnnx(join(dir, 'model.onnx'), { inputValues: values }).graph, frozen: Object.keys(values) };
    } catch (e) {
      const v = e instanceof OnnxUnsupportedError && e.category === 'dynamic' ? e.value : undefined;
      const k = v === undefined ? -1 : inputNames.indexOf(v);
      if (k < 0 || values[v!]) return { frozen: Object.keys(values), error: e };
      const raw = readRawTensorProto(join(dir, 'test_data_set_0', `input_${k}.pb`));
      values[v!] = tensorFromRaw(raw, `input '${v}'`, 'constant');
    }
  }
}

/** Runs an imported graph on concrete inputs: the interpreter, or the compiled artifact on a WebGPU adapter. */
export type Executor = (graph: Graph, inputs: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

/** The reference interpreter as an executor. */
export const interpreterExecutor: Executor = async (graph, inputs) => interpret(graph, inputs);

/** Errors an executor may throw to say "kiln cannot compile this yet" (a clear compile-time refusal, not a wrong result). */
const COMPILE_REFUSALS = new Set(['LoweringError']);

export async function runCase(dir: string, name: string, execute: Executor = interpreterExecutor): Promise<CaseResult> {
  const model = decodeModel(readFileSync(join(dir, 'model.onnx')), name);
  const inputNames = model.graph!.input.map((i) => i.name ?? '');
  const { graph: g, frozen, error: e } = importCase(dir, inputNames);
  if (!g) {
    if (e instanceof OnnxUnsupportedError) return { name, status: 'unsupported', category: e.category, message: e.message, frozen };
    return { name, status: 'fail', message: `import: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, frozen };
  }
  const data = join(dir, 'test_data_set_0');
  let out: Record<string, Tensor>;
  try {
    const inputs: Record<string, Tensor> = {};
    for (const decl of g.inputs) inputs[decl.name] = readTensorProtoFile(join(data, `input_${inputNames.indexOf(decl.name)}.pb`));
    out = await execute(g, inputs);
  } catch (e) {
    if (e instanceof Error && COMPILE_REFUSALS.has(e.name)) return { name, status: 'unsupported', category: 'kernel', message: e.message, frozen };
    return { name, status: 'fail', message: `run: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
  for (let k = 0; k < g.outputs.length; k++) {
    const file = join(data, `output_${k}.pb`);
    if (!existsSync(file)) return { name, status: 'fail', message: `missing ${file}` };
    const expected = readRawTensorProto(file);
    const why = compareValues(out[g.outputs[k]!]!, expected, RTOL, CASE_ATOL[name] ?? ATOL);
    if (why) return { name, status: 'fail', message: `output ${k} '${g.outputs[k]}': ${why}` };
  }
  return { name, status: 'pass', frozen };
}
