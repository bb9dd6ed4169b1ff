// Exporter-style models (hand-built with protobufjs, shaped like what PyTorch, tf2onnx and paddle2onnx emit),
// imported with their symbolic dims, compiled ONCE with symbol ranges, then run on the adapter at several sizes:
// every output within tolerance of the interpreter on the same symbolic graph, and nothing created per run().
import { type Tensor, bindSymbols } from '../../../ir/index.js';
import { importOnnx } from '../../../ir/import/onnx/index.js';
import { randomTensor } from '../data.js';
import { expectGraphRuns } from '../symbolic-run.js';

export { expectGraphRuns };

export type Ranges = Record<string, { min: number; max: number }>;

/** An ONNX model imported with its symbolic dims, the ranges bound, then expectGraphRuns (against the unbound import). */
export async function expectRunsMatch(bytes: Uint8Array, ranges: Ranges, cases: readonly Record<string, Tensor>[], opts: { name: string; atol?: number; rtol?: number }): Promise<number[][][]> {
  const { graph } = importOnnx(bytes);
  const tol = [opts.rtol ?? 1e-4, opts.atol ?? 1e-4] as const;
  return expectGraphRuns(bindSymbols(graph, ranges), cases, { name: opts.name, reference: graph, tolerance: () => tol });
}

/** Activations and weights as a trained model has them: in [-1, 1], no edge values. */
export const values = (shape: readonly number[], seed: number): Tensor => randomTensor('f32', shape, seed, { edges: 0, range: 1 });
