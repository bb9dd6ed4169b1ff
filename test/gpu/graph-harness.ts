// Node- and graph-level GPU checks: compile a graph with the real compiler (passes, lowering, memory planning,
// artifact), load it from memory into a runtime Session on the file's shared device, run, and compare every output
// with the reference interpreter. Kernel tests use this to cover lowering and planning, not just the kernel.
import { type CompileOptions, compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { type Graph, type Tensor, interpret, makeTensor, printGraph, toleranceExcess } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import type { ArtifactFiles } from '../../runtime/files.js';
import { testGpu } from './harness.js';

export interface GraphRunOptions {
  readonly shaderF16?: boolean | undefined;
  /** Compile for the subgroups feature (the test device requests it where the adapter has it). */
  readonly subgroups?: boolean;
  /** Further compile options (a forced sparse kernel, ...). */
  readonly compile?: Omit<CompileOptions, 'target' | 'source'>;
}

export function inMemory(graph: Graph, opts: GraphRunOptions = {}): ArtifactFiles {
  return artifactFiles(compileGraph(graph, { ...opts.compile, source: 'test', target: { shaderF16: !!opts.shaderF16, ...(opts.subgroups ? { subgroups: true } : {}) } }), `memory:${graph.name}`);
}

/** Compile and run `graph` on the shared test device; outputs as Tensors. */
export async function runGraphOnGpu(graph: Graph, inputs: Readonly<Record<string, Tensor>>, opts: GraphRunOptions = {}): Promise<Record<string, Tensor>> {
  const gpu = await testGpu();
  const session = await Session.load(inMemory(graph, opts), { device: gpu.acquired });
  try {
    const out = await session.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data])));
    return Object.fromEntries(Object.entries(out).map(([k, o]) => [k, makeTensor(o.dtype as Tensor['dtype'], o.shape, Float64Array.from(o.data))]));
  } finally {
    session.dispose();
  }
}

/**
 * Run on the GPU and throw (with the graph printed) unless every output is within |gpu - ref| <= atol + rtol*|ref|
 * of the interpreter's.
 */
export async function expectGpuMatchesInterpreter(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  tol: { rtol: number; atol: number } = { rtol: 1e-5, atol: 1e-6 },
  opts: GraphRunOptions = {},
): Promise<void> {
  const want = interpret(graph, inputs);
  const got = await runGraphOnGpu(graph, inputs, opts);
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g) throw new Error(`output %${name} missing from the GPU run`);
    const excess = toleranceExcess(g, w, tol.rtol, tol.atol);
    if (excess > 0) {
      let worst = 0;
      for (let i = 0; i < w.data.length; i++) if (Math.abs(g.data[i]! - w.data[i]!) > Math.abs(g.data[worst]! - w.data[worst]!)) worst = i;
      throw new Error(
        `%${name}: GPU differs from the interpreter by ${excess} beyond tolerance (element ${worst}: gpu ${g.data[worst]} vs ref ${w.data[worst]})\n${printGraph(graph)}`,
      );
    }
  }
}
