// Every pass preserves meaning: interp(pass(g)) equals interp(g) on random valid graphs, bit for bit for the
// exact passes. The manager verifies after each pass, so a pass that produces an ill-formed graph fails too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, type Tensor, interpret, printGraph, tensorsIdentical, formatType } from '../../ir/index.js';
import { DEFAULT_PIPELINE, type Pass, eliminateDead, foldConstants, inferShapes, runPipeline } from '../../passes/index.js';
import { arbGraphCase } from '../../scripts/lib/arbitraries.js';

const RUNS = 300;

function sameOutputs(a: Record<string, Tensor>, b: Record<string, Tensor>): string | undefined {
  for (const [name, t] of Object.entries(a)) {
    const u = b[name];
    if (!u) return `output %${name} missing`;
    if (!tensorsIdentical(t, u)) return `output %${name} differs: ${Array.from(t.data).slice(0, 8)} vs ${Array.from(u.data).slice(0, 8)}`;
  }
  return undefined;
}

function checkPreserves(passes: readonly Pass[], prepare: (g: Graph) => Graph = (g) => g): void {
  fc.assert(
    fc.property(arbGraphCase(), ({ graph, inputs }) => {
      const before = interpret(graph, inputs);
      const { graph: after } = runPipeline(prepare(graph), passes);
      const problem = sameOutputs(before, interpret(after, inputs));
      if (problem) throw new Error(`${problem}\n--- before\n${printGraph(graph)}--- after\n${printGraph(after)}`);
    }),
    { numRuns: RUNS },
  );
}

/** Drop every node result's type, as a .kir file without annotations parses. */
function stripResultTypes(g: Graph): Graph {
  const keep = new Set([...g.inputs.map((i) => i.name), ...g.constants.map((c) => c.name)]);
  return { ...g, types: new Map([...g.types].filter(([k]) => keep.has(k))) };
}

describe('pass semantics on random graphs', () => {
  it('infer-shapes restores exactly the types the builder inferred', () => {
    fc.assert(
      fc.property(arbGraphCase(), ({ graph }) => {
        const { graph: after } = runPipeline(stripResultTypes(graph), [inferShapes]);
        for (const [name, t] of graph.types) expect(formatType(after.types.get(name)!), name).toBe(formatType(t));
      }),
      { numRuns: RUNS },
    );
  });
  it('infer-shapes preserves outputs', () => checkPreserves([inferShapes], stripResultTypes));
  it('fold-constants preserves outputs', () => checkPreserves([foldConstants]));
  it('eliminate-dead preserves outputs', () => checkPreserves([eliminateDead]));
  it('the default pipeline preserves outputs', () => checkPreserves(DEFAULT_PIPELINE, stripResultTypes));

  it('the generated graphs give the passes work to do', () => {
    // Guards against a generator that silently stops producing foldable or dead nodes (the properties above
    // would then pass vacuously).
    let folded = 0;
    let removed = 0;
    fc.assert(
      fc.property(arbGraphCase(), ({ graph }) => {
        const { reports } = runPipeline(graph, [foldConstants, eliminateDead]);
        folded += reports[0]!.stats['nodes-folded'] ?? 0;
        removed += reports[1]!.stats['nodes-removed'] ?? 0;
      }),
      { numRuns: 200 },
    );
    expect(folded).toBeGreaterThan(50);
    expect(removed).toBeGreaterThan(50);
  });
});
