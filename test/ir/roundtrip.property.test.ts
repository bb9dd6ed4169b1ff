// Round-trip properties of the textual IR: the printer's output parses, printing is canonical
// (print(parse(print(g))) === print(g)), and parsing recovers the graph's structure.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../ir/graph.js';
import { interpret } from '../../ir/interp.js';
import { parseKir } from '../../ir/parse.js';
import { printGraph } from '../../ir/print.js';
import { formatType } from '../../ir/types.js';
import { verify } from '../../ir/verify.js';
import { arbGraphCase, arbKirGraph } from '../../scripts/lib/arbitraries.js';

const RUNS = 1000;
// ohm parses roughly 100 KB/s, so 1000 graphs take a few seconds; allow for slow, shared CI machines.
const TIMEOUT_MS = 120_000;

/**
 * Everything a graph means, as plain data that toEqual compares with Object.is semantics for numbers (so -0 and 0
 * differ, NaN equals NaN). Numbers are kept as numbers, not printed, so the printer cannot hide its own mistakes.
 */
function structure(g: Graph): unknown {
  const sortedEntries = <T>(o: Readonly<Record<string, T>>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    name: g.name,
    symbols: sortedEntries(g.symbols),
    inputs: g.inputs.map((i) => [i.name, formatType(i.type)]),
    constants: g.constants.map((c) => ({
      name: c.name,
      type: formatType(c.type),
      source: c.source ?? null,
      value: c.value ? { dtype: c.value.dtype, shape: [...c.value.shape], data: Array.from(c.value.data) } : null,
    })),
    nodes: g.nodes.map((n) => ({ op: n.op, inputs: [...n.inputs], outputs: [...n.outputs], attrs: sortedEntries(n.attrs) })),
    outputs: [...g.outputs],
    types: [...g.types].map(([k, t]) => [k, formatType(t)]).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
  };
}

function checkRoundTrip(g: Graph): void {
  const text = printGraph(g);
  let parsed: Graph;
  try {
    parsed = parseKir(text, 'printed.kir');
  } catch (e) {
    throw new Error(`printed graph does not parse: ${(e as Error).message}\n--- printed ---\n${text}`);
  }
  expect(printGraph(parsed)).toBe(text);
  expect(structure(parsed)).toEqual(structure(g));
}

describe('textual IR round trip', () => {
  it('print ∘ parse is the identity on printed text, and parse recovers the structure (arbKirGraph)', () => {
    fc.assert(fc.property(arbKirGraph(), checkRoundTrip), { numRuns: RUNS });
  }, TIMEOUT_MS);

  it('print ∘ parse is the identity on printed text, and parse recovers the structure (arbGraphCase)', () => {
    fc.assert(
      fc.property(arbGraphCase(), ({ graph }) => checkRoundTrip(graph)),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);
});

// The pass property tests rely on these guarantees of arbGraphCase.
describe('arbGraphCase', () => {
  it('makes graphs that verify and interpret to finite values', () => {
    fc.assert(
      fc.property(arbGraphCase(), ({ graph, inputs }) => {
        expect(verify(graph).map((d) => d.message)).toEqual([]);
        for (const [name, t] of Object.entries(interpret(graph, inputs)))
          expect(t.data.every(Number.isFinite), `output %${name} is finite`).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, TIMEOUT_MS);

  it('covers its whole op menu, constant-only subgraphs, unused nodes and several outputs', () => {
    const cases = fc.sample(arbGraphCase(), { numRuns: 500, seed: 42 });
    const ops = new Set(cases.flatMap((c) => c.graph.nodes.map((n) => n.op)));
    const menu = ['Relu', 'Neg', 'Abs', 'Exp', 'Tanh', 'Sigmoid', 'Sqrt', 'Erf', 'Gelu', 'LeakyRelu', 'Add', 'Sub', 'Mul', 'Div', 'Min', 'Max', 'Pow', 'Where', 'Less', 'Greater', 'Equal', 'Cast', 'Clip', 'MatMul', 'Gemm', 'Transpose', 'Reshape', 'Concat', 'Split', 'Slice', 'Softmax', 'ReduceSum', 'ReduceMean', 'ReduceMax', 'Unsqueeze', 'Squeeze', 'Expand', 'Gather'];
    expect(menu.filter((op) => !ops.has(op))).toEqual([]);
    const count = (p: (g: Graph) => boolean): number => cases.filter((c) => p(c.graph)).length;
    const constantOnly = count((g) => {
      const consts = new Set(g.constants.map((c) => c.name));
      return g.nodes.some((n) => n.inputs.every((i) => i === '' || consts.has(i)));
    });
    const unused = count((g) => {
      const used = new Set([...g.nodes.flatMap((n) => n.inputs), ...g.outputs]);
      return g.nodes.some((n) => n.outputs.every((o) => !used.has(o)));
    });
    const omittedInput = count((g) => g.nodes.some((n) => n.inputs.includes('')));
    const inputTypes = new Set(cases.flatMap((c) => c.graph.inputs.map((i) => i.type.dtype)));
    expect(constantOnly).toBeGreaterThan(100);
    expect(unused).toBeGreaterThan(100);
    expect(count((g) => g.outputs.length > 1)).toBeGreaterThan(100);
    expect(omittedInput).toBeGreaterThan(0);
    expect([...inputTypes].sort()).toEqual(['bool', 'f32', 'i32']);
  });
});
