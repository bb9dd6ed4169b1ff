// Exporter-style models (hand-built with protobufjs, shaped like what PyTorch, tf2onnx and paddle2onnx emit),
// imported with their symbolic dims, compiled ONCE with symbol ranges, then run on the adapter at several sizes:
// every output within tolerance of the interpreter on the same symbolic graph, and nothing created per run().
import { expect } from 'vitest';
import { compileGraph } from '../../../compiler/compile.js';
import { artifactFiles } from '../../../compiler/emit/in-memory.js';
import { type Graph, type Tensor, bindSymbols, interpret, makeTensor, toleranceExcess } from '../../../ir/index.js';
import { importOnnx } from '../../../ir/import/onnx/index.js';
import { Session } from '../../../runtime/index.js';
import { creations } from '../creations.js';
import { randomTensor } from '../data.js';
import { testGpu } from '../harness.js';

export type Ranges = Record<string, { min: number; max: number }>;

/**
 * Compile `graph` (symbols bound to ranges) once, run each input set on one session and compare every output with
 * the interpreter on `reference` (default: the graph itself). Returns the output shapes seen, so a test can check
 * the sizes really differed.
 */
export async function expectGraphRuns(graph: Graph, cases: readonly Record<string, Tensor>[], opts: { name: string; atol?: number; rtol?: number; reference?: Graph }): Promise<number[][][]> {
  const gpu = await testGpu();
  const artifact = compileGraph(graph, { source: opts.name, target: { shaderF16: false } });
  expect(artifact.manifest.symbols?.map((s) => s.name).sort()).toEqual(Object.keys(graph.symbols).sort());
  const session = await Session.load(artifactFiles(artifact, `memory:${opts.name}`), { device: gpu.acquired });
  const shapes: number[][][] = [];
  try {
    for (const inputs of cases) {
      const want = interpret(opts.reference ?? graph, inputs);
      let got: Awaited<ReturnType<Session['run']>> = {};
      const feeds = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { data: t.data, shape: t.shape }]));
      const made = await creations(session.device, async () => {
        got = await session.run(feeds);
      });
      const where = Object.entries(inputs).map(([k, t]) => `${k} [${t.shape.join(',')}]`).join(', ');
      expect(made, `objects created by run() at ${where}`).toBe(0);
      const caseShapes: number[][] = [];
      for (const [name, w] of Object.entries(want)) {
        const g = got[name]!;
        expect(g, `output ${name} at ${where}`).toBeDefined();
        const t = makeTensor(w.dtype, g.shape, Float64Array.from(g.data as ArrayLike<number>));
        expect(t.shape, `${name} shape at ${where}`).toEqual(w.shape);
        expect(toleranceExcess(t, w, opts.rtol ?? 1e-4, opts.atol ?? 1e-4), `${name} at ${where}`).toBe(0);
        caseShapes.push([...w.shape]);
      }
      shapes.push(caseShapes);
    }
  } finally {
    session.dispose();
  }
  return shapes;
}

/** An ONNX model imported with its symbolic dims, the ranges bound, then expectGraphRuns (against the unbound import). */
export async function expectRunsMatch(bytes: Uint8Array, ranges: Ranges, cases: readonly Record<string, Tensor>[], opts: { name: string; atol?: number; rtol?: number }): Promise<number[][][]> {
  const { graph } = importOnnx(bytes);
  return expectGraphRuns(bindSymbols(graph, ranges), cases, { ...opts, reference: graph });
}

/** Activations and weights as a trained model has them: in [-1, 1], no edge values. */
export const values = (shape: readonly number[], seed: number): Tensor => randomTensor('f32', shape, seed, { edges: 0, range: 1 });
