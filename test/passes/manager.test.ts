import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeTensor, tensorType, updateGraph } from '../../ir/index.js';
import { type Pass, PassError, eliminateDead, foldConstants, inferShapes, runPipeline, resolvePasses, EXACT } from '../../passes/index.js';

function sample() {
  const b = new GraphBuilder('m');
  const x = b.input('x', tensorType('f32', [2, 3]));
  const c1 = b.constant(makeTensor('f32', [3], [1, 2, 3]), 'c1');
  const c2 = b.constant(makeTensor('f32', [3], [10, 20, 30]), 'c2');
  const folded = b.op('Add', [c1, c2], {}, { names: ['k'] });
  const y = b.op('Mul', [x, folded], {}, { names: ['y'] });
  b.op('Exp', [x], {}, { names: ['unused'] });
  return b.output(y).build();
}

describe('pass manager', () => {
  it('folds, removes the dead, and reports statistics', () => {
    const { graph, reports } = runPipeline(sample(), [inferShapes, foldConstants, eliminateDead]);
    expect(graph.nodes.map((n) => n.op)).toEqual(['Mul']);
    expect(graph.constants.map((c) => c.name)).toEqual(['k']);
    expect(Array.from(graph.constants[0]!.value!.data)).toEqual([11, 22, 33]);
    expect(reports.map((r) => r.pass)).toEqual(['infer-shapes', 'fold-constants', 'eliminate-dead']);
    expect(reports[1]!.stats).toEqual({ 'nodes-folded': 1 });
    expect(reports[2]!.stats).toEqual({ 'constants-removed': 2, 'nodes-removed': 1 });
  });

  it('catches a pass that breaks the graph, naming the pass', () => {
    const dropsProducer: Pass = {
      name: 'drop-first-node',
      summary: 'broken on purpose',
      tolerance: EXACT,
      run: (g) => updateGraph(g, { nodes: g.nodes.slice(1) }),
    };
    expect(() => runPipeline(sample(), [dropsProducer])).toThrow(PassError);
    expect(() => runPipeline(sample(), [dropsProducer])).toThrow(/pass 'drop-first-node' produced an invalid graph:[\s\S]*%k is used before it is defined/);
  });

  it('dumps the IR after the passes asked for', () => {
    const dumps: string[] = [];
    runPipeline(sample(), [inferShapes, foldConstants, eliminateDead], {
      dumpAfter: ['fold-constants'],
      onDump: (i, name, text) => dumps.push(`${i}-${name}:${text.includes('const %k')}`),
    });
    expect(dumps).toEqual(['2-fold-constants:true']);
  });

  it('rejects unknown pass names with the list of known ones', () => {
    expect(() => resolvePasses(['fold-constant'])).toThrow(/unknown pass 'fold-constant' \(known passes: infer-shapes, fold-constants, control-flow, eliminate-dead, prune-structured, sparsify, bitpack, split-oversized-weights, encode-sparse-weights, store-weights-f16, arrange-layout, materialize-encodings, fit-symbol-bounds\)/);
  });

  it('does not fold results much larger than their inputs', () => {
    const b = new GraphBuilder();
    const c = b.constant(makeTensor('f32', [1], [1]));
    const big = b.op('Expand', [c], { shape: [100, 100] });
    const x = b.input('x', tensorType('f32', [100, 100]));
    const graph = b.output(b.op('Add', [x, big])).build();
    const { graph: after, reports } = runPipeline(graph, [foldConstants]);
    expect(after.nodes.map((n) => n.op)).toEqual(['Expand', 'Add']);
    expect(reports[0]!.stats).toEqual({ 'too-large-to-fold': 1 });
  });
});
