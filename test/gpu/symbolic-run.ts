// The one way symbolic-dims GPU tests run a graph: compile it ONCE (its symbols bound to ranges), run each input
// set on one session, count the device objects each run() creates (must be 0: no pipeline, shader module, bind
// group or buffer after load), and compare every output with the interpreter within a per-output tolerance.
import { expect } from 'vitest';
import { type Artifact, compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { type DType, type Graph, type Tensor, interpret, makeTensor, toleranceExcess } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import { creations } from './creations.js';
import { testGpu } from './harness.js';

export interface RunOptions {
  readonly name?: string;
  /** [rtol, atol] per output (default 1e-4, 1e-4). */
  readonly tolerance?: (output: string, dtype: DType) => readonly [number, number];
  /** The graph the interpreter runs (default: the compiled one), e.g. the import before its symbols were bound. */
  readonly reference?: Graph;
  /** Checks on the artifact before it runs (kernel counts, symbols). */
  readonly check?: (artifact: Artifact) => void;
}

/** Compile once, run every case, compare; the output shapes of each case, so a test can check the sizes differed. */
export async function expectGraphRuns(graph: Graph, cases: readonly Record<string, Tensor>[], opts: RunOptions = {}): Promise<number[][][]> {
  const gpu = await testGpu();
  const artifact = compileGraph(graph, { source: opts.name ?? 'test', target: { shaderF16: false } });
  expect(artifact.manifest.symbols?.map((s) => s.name).sort()).toEqual(Object.keys(graph.symbols).sort());
  opts.check?.(artifact);
  const session = await Session.load(artifactFiles(artifact, `memory:${opts.name ?? 'symbolic'}`), { device: gpu.acquired });
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
        const g = got[name];
        expect(g, `output ${name} at ${where}`).toBeDefined();
        expect(g!.shape, `${name} shape at ${where}`).toEqual(w.shape);
        const [rtol, atol] = opts.tolerance?.(name, w.dtype) ?? [1e-4, 1e-4];
        const t = makeTensor(w.dtype, g!.shape, Float64Array.from(g!.data as ArrayLike<number>));
        expect(toleranceExcess(t, w, rtol, atol), `${name} at ${where}`).toBe(0);
        caseShapes.push([...w.shape]);
      }
      shapes.push(caseShapes);
    }
  } finally {
    session.dispose();
  }
  return shapes;
}

/** Input sets from shapes: `make(name, shape, seed)` per input, the seed counting up from `seed.next`. */
export function casesOf(
  sizes: readonly Record<string, readonly number[]>[],
  make: (name: string, shape: readonly number[], seed: number, shapes: Readonly<Record<string, readonly number[]>>) => Tensor,
  seed: { next: number } = { next: 1 },
): Record<string, Tensor>[] {
  return sizes.map((shapes) => Object.fromEntries(Object.entries(shapes).map(([name, shape]) => [name, make(name, shape, seed.next++, shapes)])));
}
