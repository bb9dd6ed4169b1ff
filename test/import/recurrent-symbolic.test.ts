// LSTM, GRU and RNN imported with a symbolic batch and a symbolic sequence length (unrolled to its upper bound,
// each step masked by the run-time length), run by the reference interpreter: the same values as the model
// imported with those dims bound to the run's sizes (exactly: masked steps pass values through untouched) and as
// onnxruntime's CPU provider; one graph at several sizes for exported-style stacks; a symbolic batch alone
// leaving the expansion as it was; and the refusals, each one line naming what to set.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../ir/graph.js';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { MAX_SYMBOLIC_STEPS } from '../../ir/import/onnx/ops/recurrent-length.js';
import { interpret } from '../../ir/interp.js';
import type { SymbolBound } from '../../ir/shape.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import {
  type RnnCase,
  type RnnDimNames,
  type RnnOp,
  type RnnStack,
  mismatch,
  ortOutputs,
  ortStackOutputs,
  randomRnnCase,
  rnnData,
  rnnInputs,
  rnnModel,
  rnnStackInputs,
  rnnStackModel,
} from '../../scripts/lib/recurrent-models.js';

const RTOL = 1e-4;
const ATOL = 1e-5;
const OPS: RnnOp[] = ['LSTM', 'GRU', 'RNN'];
const BOUNDS: Record<string, SymbolBound> = { seq: { min: 1, max: 8 }, batch: { min: 1, max: 6 } };

/** Outputs that differ from `want` beyond the tolerance, as 'name: where' lines (none: they all match). */
function mismatches(got: Record<string, Tensor>, want: Record<string, Tensor>, rtol = RTOL, atol = ATOL): string[] {
  return Object.keys(want)
    .map((o) => [o, mismatch(got[o], want[o]!, rtol, atol)] as const)
    .filter(([, m]) => m)
    .map(([o, m]) => `${o}: ${m}`);
}

/** The dims a case can name: a batch fixed by constant sequence_lens stays static. */
const namesFor = (c: RnnCase): RnnDimNames => (c.seqLens && !c.lensAtRunTime ? { seq: 'seq' } : { seq: 'seq', batch: 'batch' });

describe('single nodes with a symbolic sequence length and batch', () => {
  // Random cases cover every direction, layout, opset form, optional input, activation, clip and sequence_lens.
  for (const op of OPS)
    it.each(Array.from({ length: 24 }, (_, i) => 3000 + 100 * OPS.indexOf(op) + i))(`${op} #%i equals the static expansion and matches onnxruntime`, async (seed) => {
      const c = randomRnnCase(seed, { op });
      const data = rnnData(c);
      const names = namesFor(c);
      const { graph } = importOnnx(rnnModel(c, data, c.layout, names), { symbols: BOUNDS });
      expect(Object.keys(graph.symbols).sort(), JSON.stringify(c)).toEqual(Object.keys(names).sort());
      const inputs = rnnInputs(c, data);
      const got = interpret(graph, inputs);
      const fixed = interpret(importOnnx(rnnModel(c, data)).graph, inputs);
      expect(mismatches(got, fixed, 0, 0), JSON.stringify(c)).toEqual([]);
      expect(mismatches(got, await ortOutputs(c, data)), JSON.stringify(c)).toEqual([]);
    });

  it('every direction and layout at the bound, at 1 and between, with and without initial states', async () => {
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const)
      for (const [layout, seq, initialH] of [[0, 8, true], [1, 1, false], [1, 5, true], [0, 3, false]] as const) {
        const c = randomRnnCase(seq * 7 + layout, { op: 'LSTM', opset: 22, direction, layout, seq, batch: 3, initialH, initialC: initialH, outputs: ['Y', 'Y_h', 'Y_c'] });
        const data = rnnData(c);
        const { graph } = importOnnx(rnnModel(c, data, layout, namesFor(c)), { symbols: BOUNDS });
        expect(mismatches(interpret(graph, rnnInputs(c, data)), await ortOutputs(c, data)), JSON.stringify(c)).toEqual([]);
      }
  });
});

describe('exported-style stacks: one graph at several sizes', () => {
  const stacks: RnnStack[] = [
    { op: 'LSTM', opset: 14, layers: 2, input: 5, hidden: 6, direction: 'bidirectional', layout: 0, seq: 'seq', batch: 'batch', initialStates: true, seqLens: false, seed: 1 },
    { op: 'GRU', opset: 22, layers: 2, input: 4, hidden: 7, direction: 'forward', layout: 0, seq: 'seq', batch: 'batch', initialStates: true, seqLens: false, seed: 2 },
    { op: 'GRU', opset: 7, layers: 2, input: 3, hidden: 5, direction: 'reverse', layout: 0, seq: 'seq', batch: 'batch', initialStates: false, seqLens: true, seed: 3 },
    { op: 'RNN', opset: 14, layers: 2, input: 3, hidden: 4, direction: 'bidirectional', layout: 0, seq: 'seq', batch: 'batch', initialStates: true, seqLens: true, seed: 4 },
  ];
  const sizes = [[1, 1], [8, 6], [5, 2], [3, 4]] as const;

  it.each(stacks.map((s) => [`${s.op} ${s.direction}${s.seqLens ? ' with sequence_lens' : ''}`, s] as const))('%s', async (_, s) => {
    const { graph } = importOnnx(rnnStackModel(s), { symbols: BOUNDS });
    for (const [seq, batch] of sizes) {
      const inputs = rnnStackInputs(s, seq, batch, seq * 10 + batch);
      const got = interpret(graph, inputs);
      const fixed = interpret(importOnnx(rnnStackModel(s), { symbols: { seq, batch } }).graph, inputs);
      expect(mismatches(got, fixed, 0, 0), `seq ${seq}, batch ${batch}`).toEqual([]);
      expect(mismatches(got, await ortStackOutputs(s, inputs)), `seq ${seq}, batch ${batch}`).toEqual([]);
    }
  });

  it('a batch-major (layout 1) stack equals its seq-major twin on transposed data', () => {
    const s: RnnStack = { ...stacks[0]!, layout: 1, seed: 5 };
    const { graph } = importOnnx(rnnStackModel(s), { symbols: BOUNDS });
    const twin = importOnnx(rnnStackModel({ ...s, layout: 0 }), { symbols: BOUNDS }).graph;
    for (const [seq, batch] of sizes) {
      const inputs = rnnStackInputs(s, seq, batch, seq + batch);
      const swapped = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, swap01(t)]));
      const got = interpret(graph, inputs);
      const want = interpret(twin, swapped);
      // Y is [batch, seq, dirs*hidden] here, [seq, batch, dirs*hidden] there; the states swap their first two axes.
      expect(mismatches(Object.fromEntries(Object.entries(got).map(([k, t]) => [k, swap01(t)])), want, 1e-6, 1e-7), `seq ${seq}, batch ${batch}`).toEqual([]);
    }
  });
});

describe('the expansion', () => {
  const count = (g: Graph, op: string): number => g.nodes.filter((n) => n.op === op).length;
  const plain = { activations: undefined, alpha: undefined, beta: undefined };

  it('is the static one when only the batch is symbolic', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const c = randomRnnCase(seed, { lensAtRunTime: true });
      const data = rnnData(c);
      const nodes = (g: Graph): unknown[] => g.nodes.map((n) => [n.op, n.inputs, n.outputs, n.attrs]);
      const symbolic = importOnnx(rnnModel(c, data, c.layout, { batch: 'batch' })).graph;
      expect(symbolic.symbols, JSON.stringify(c)).toHaveProperty('batch');
      expect(nodes(symbolic), JSON.stringify(c)).toEqual(nodes(importOnnx(rnnModel(c, data)).graph));
    }
  });

  it('unrolls a symbolic length to its upper bound, masks only the steps it may not reach, and slices Y back', () => {
    const c = randomRnnCase(8, { op: 'LSTM', seq: 4, direction: 'bidirectional', initialH: true, seqLens: undefined, outputs: ['Y', 'Y_h'], ...plain });
    const { graph } = importOnnx(rnnModel(c, rnnData(c), c.layout, { seq: 'seq' }), { symbols: { seq: { min: 3, max: 7 } } });
    expect(count(graph, 'MatMul')).toBe(1 + 2 * 7);
    // Steps 0..2 always run; 3..6 are masked, in both directions, by one comparison each.
    expect(count(graph, 'Less')).toBe(4);
    const y = graph.nodes.find((n) => n.outputs.includes('Y'))!;
    expect([y.op, y.attrs.ends]).toEqual(['Slice', ['seq']]);
    expect(graph.types.get('Y')!.shape).toEqual(['seq', 2, c.batch, c.hidden]);
  });
});

describe('refusals', () => {
  /** The import error of a forward LSTM over X [seq, 2, 3] (hidden 2), or undefined. */
  const refusal = (symbols: Record<string, SymbolBound>, lens?: boolean): Error | undefined => {
    const c = randomRnnCase(9, { op: 'LSTM', seq: 3, batch: 2, input: 3, hidden: 2, direction: 'forward', seqLens: lens ? [3, 1] : undefined, lensAtRunTime: false, outputs: ['Y'] });
    try {
      importOnnx(rnnModel(c, rnnData(c), c.layout, lens ? { batch: 'batch' } : { seq: 'seq' }), { symbols });
      return undefined;
    } catch (e) {
      return e as Error;
    }
  };

  it('a sequence length bounded above the unroll limit, or not bounded at all, names the symbol and what to set', () => {
    for (const max of [MAX_SYMBOLIC_STEPS + 1, 65536]) {
      const e = refusal(max === 65536 ? {} : { seq: { min: 1, max } });
      expect(e).toBeInstanceOf(OnnxUnsupportedError);
      expect((e as OnnxUnsupportedError).category).toBe('dynamic');
      expect(e!.message).toMatch(/^<bytes>: node 'lstm_node' \(LSTM, opset \d+, outputs 'Y'\): unsupported: LSTM is unrolled at compile time, but the sequence length of 'X' \[seq,2,3\] is symbolic \('seq'\); set --dim seq=<size>, or bound it with --dim seq=1\.\.<max> for a max up to 1024/);
      expect(e!.message).toContain(`now ${max}`);
      expect(e!.message).not.toContain('\n');
    }
    expect(refusal({ seq: { min: 1, max: 64 } })).toBeUndefined();
  });

  it('a sequence length that may be 0', () => {
    expect(refusal({ seq: { min: 0, max: 4 } })?.message).toMatch(/is symbolic \('seq'\) and may be 0; bound it from 1 with --dim seq=1\.\.4/);
  });

  it('constant sequence_lens with a symbolic batch', () => {
    expect(refusal({}, true)?.message).toMatch(/sequence_lens 'sequence_lens' is a constant of 2 rows but the batch of 'X' is symbolic \('batch'\); set --dim batch=2$/);
  });
});

/** Axes 0 and 1 swapped (batch-major <-> seq-major). */
function swap01(t: Tensor): Tensor {
  const [a, b, ...rest] = t.shape as number[];
  const inner = rest.reduce((x, y) => x * y, 1);
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < a!; i++) for (let j = 0; j < b!; j++) for (let k = 0; k < inner; k++) out[(j * a! + i) * inner + k] = t.data[(i * b! + j) * inner + k]!;
  return makeTensor(t.dtype, [b!, a!, ...rest], out);
}
