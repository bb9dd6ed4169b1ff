// LSTM, GRU and RNN as the importer unrolls them, run by the reference interpreter and compared with
// onnxruntime's CPU provider on the same models (an oracle that shares nothing with kiln; layout 1 through its
// seq-major twin, see scripts/lib/recurrent-models.ts): random cases, every activation, sequence_lens, each opset
// form; then the defaults the spec fixes, the unrolled graph's shape, and the refusals.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../ir/graph.js';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import type { Tensor } from '../../ir/tensor.js';
import { DT, attrFloats, attrInt, attrString, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import {
  ACTIVATIONS,
  type RnnCase,
  type RnnOp,
  mismatch,
  ortOutputs,
  randomRnnCase,
  rnnData,
  rnnInputs,
  rnnModel,
} from '../../scripts/lib/recurrent-models.js';

const RTOL = 1e-4;
const ATOL = 1e-5;
const OPS: RnnOp[] = ['LSTM', 'GRU', 'RNN'];

function kiln(c: RnnCase): { graph: Graph; out: Record<string, Tensor> } {
  const data = rnnData(c);
  const { graph } = importOnnx(rnnModel(c, data));
  return { graph, out: interpret(graph, rnnInputs(c, data)) };
}

/** Every requested output of the case within tolerance of onnxruntime's (a mismatch names the case). */
async function expectMatchesOrt(c: RnnCase): Promise<void> {
  const want = await ortOutputs(c, rnnData(c));
  const { out } = kiln(c);
  const bad = c.outputs.map((o) => [o, mismatch(out[o], want[o]!, RTOL, ATOL)] as const).filter(([, m]) => m);
  expect(bad.map(([o, m]) => `${o}: ${m}`), JSON.stringify(c)).toEqual([]);
}

describe('random cases match onnxruntime', () => {
  for (const op of OPS)
    it.each(Array.from({ length: 30 }, (_, i) => 1000 * OPS.indexOf(op) + i))(`${op} #%i`, async (seed) => {
      await expectMatchesOrt(randomRnnCase(seed, { op }));
    });
});

describe('every activation, in every slot', () => {
  for (const op of OPS)
    it.each(ACTIVATIONS)(`${op} with %s`, async (act) => {
      const slots = { LSTM: 6, GRU: 4, RNN: 2 }[op];
      // Explicit alpha/beta for every slot (equal per direction, which onnxruntime's RNN indexes them by).
      const c = randomRnnCase(7 + ACTIVATIONS.indexOf(act), { op, direction: 'bidirectional', activations: Array(slots).fill(act), alpha: Array(slots).fill(0.7), beta: Array(slots).fill(0.2), seq: 4, outputs: op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'] });
      await expectMatchesOrt(c);
    });
});

describe('sequence_lens, directions, layouts and opset forms', () => {
  const lens = [3, 0, 5, 1];
  for (const op of OPS)
    for (const direction of ['forward', 'reverse', 'bidirectional'] as const)
      it.each([
        [7, 0, false],
        [14, 1, true],
        [22, 0, true],
        [22, 1, false],
      ] as const)(`${op} ${direction}, opset %i layout %i, lengths at run time: %s`, async (opset, layout, atRunTime) => {
        const c = randomRnnCase(opset * 10 + layout, { op, direction, opset, layout, seq: 5, batch: 4, seqLens: op === 'RNN' ? [3, 2, 5, 1] : lens, lensAtRunTime: atRunTime, initialH: true, initialC: op === 'LSTM', outputs: op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'] });
        await expectMatchesOrt(c);
      });

  it('GRU linear_before_reset 0 and 1, with and without bias and initial state', async () => {
    for (const linearBeforeReset of [0, 1] as const)
      for (const bias of [false, true])
        for (const initialH of [false, true]) await expectMatchesOrt(randomRnnCase(31, { op: 'GRU', linearBeforeReset, bias, initialH, outputs: ['Y', 'Y_h'] }));
  });

  it('LSTM peepholes, input_forget and clip', async () => {
    for (const peepholes of [false, true])
      for (const inputForget of [false, true])
        await expectMatchesOrt(randomRnnCase(41, { op: 'LSTM', peepholes, inputForget, clip: 0.6, initialC: true, direction: 'bidirectional', outputs: ['Y', 'Y_h', 'Y_c'] }));
  });
});

describe('defaults', () => {
  const without = (c: RnnCase): RnnCase => {
    const { alpha: _a, beta: _b, ...rest } = c;
    return rest;
  };

  it('activation_alpha/beta default to the ONNX op defaults (LeakyRelu, HardSigmoid, Elu agree with onnxruntime)', async () => {
    for (const act of ['LeakyRelu', 'HardSigmoid', 'Elu']) await expectMatchesOrt(without(randomRnnCase(51, { op: 'GRU', activations: [act, 'Tanh'], direction: 'forward' })));
  });

  it('Affine defaults to alpha 1, beta 0 and ThresholdedRelu to alpha 1 (onnxruntime uses 0)', () => {
    for (const [act, alpha, beta] of [['Affine', [1], [0]], ['ThresholdedRelu', [1], []]] as const) {
      const base = randomRnnCase(61, { op: 'RNN', activations: [act], direction: 'forward' });
      const explicit = kiln({ ...base, alpha, beta });
      const defaulted = kiln(without(base));
      expect(defaulted.out.Y ?? defaulted.out.Y_h).toEqual(explicit.out.Y ?? explicit.out.Y_h);
    }
  });

  it('values are consumed in order by the activations that take them, extra values ignored', async () => {
    const base = randomRnnCase(71, { op: 'LSTM', direction: 'forward', outputs: ['Y'], activations: ['HardSigmoid', 'Tanh', 'LeakyRelu'] });
    const consumed = { ...base, alpha: [0.3, 0.05], beta: [0.4] };
    await expectMatchesOrt(consumed);
    expect(kiln(consumed).out.Y).toEqual(kiln({ ...base, alpha: [0.3, 0.05, 9], beta: [0.4, 9] }).out.Y);
  });

  it('no activations attribute means the cell defaults (RNN: Tanh, also from its two-entry schema default)', () => {
    const base = randomRnnCase(81, { op: 'RNN', direction: 'forward', outputs: ['Y'] });
    const defaulted = kiln({ ...without(base), activations: undefined } as RnnCase);
    expect(kiln({ ...base, activations: ['Tanh'], alpha: [], beta: [] }).out.Y).toEqual(defaulted.out.Y);
    expect(kiln({ ...base, activations: ['Tanh', 'Tanh'], alpha: [], beta: [] }).out.Y).toEqual(defaulted.out.Y);
  });
});

describe('the unrolled graph', () => {
  const count = (g: Graph, op: string): number => g.nodes.filter((n) => n.op === op).length;

  const plain = { activations: undefined, alpha: undefined, beta: undefined };

  it('projects every step with one MatMul, then one per step and direction', () => {
    const c = randomRnnCase(91, { op: 'LSTM', seq: 6, direction: 'bidirectional', initialH: true, outputs: ['Y'], ...plain });
    expect(count(kiln(c).graph, 'MatMul')).toBe(1 + 2 * 6);
  });

  it('known lengths that cover every step add no mask; a step no row reaches does no work', () => {
    const full = randomRnnCase(92, { op: 'GRU', seq: 4, batch: 3, seqLens: [4, 4, 4], lensAtRunTime: false, outputs: ['Y'], ...plain });
    expect(count(kiln(full).graph, 'Where')).toBe(0);
    const short = { ...full, seqLens: [2, 1, 2], direction: 'forward' as const, initialH: true };
    expect(count(kiln(short).graph, 'MatMul')).toBe(1 + 2 * 2);
  });
});

describe('refusals', () => {
  /** An LSTM over X of the given shape (forward, hidden 2, input 3), imported. */
  const lstm = (xShape: (number | string)[], attrs: Record<string, Record<string, unknown>> = {}, opset = 14): unknown => {
    const bytes = encodeModel(
      model({
        opset,
        nodes: [node('LSTM', ['X', 'W', 'R'], ['Y'], { hidden_size: attrInt(2), ...attrs }, { name: 'enc' })],
        inputs: [valueInfo('X', DT.FLOAT, xShape), valueInfo('W', DT.FLOAT, [1, 8, 3]), valueInfo('R', DT.FLOAT, [1, 8, 2])],
        outputs: [valueInfo('Y', DT.FLOAT)],
      }),
    );
    try {
      importOnnx(bytes);
      return undefined;
    } catch (e) {
      return e;
    }
  };

  it('a symbolic sequence length: a dynamic refusal naming the node, the op and the --dim to set', () => {
    const e = lstm(['seq', 2, 3]);
    expect(e).toBeInstanceOf(OnnxUnsupportedError);
    expect((e as OnnxUnsupportedError).category).toBe('dynamic');
    expect((e as Error).message).toMatch(/^<bytes>: node 'enc' \(LSTM, opset 14, outputs 'Y'\): unsupported: LSTM is unrolled at compile time, but the sequence length of 'X' \[seq,2,3\] is symbolic \('seq'\); set --dim seq=<size>/);
    expect((e as Error).message).not.toContain('\n');
    expect(lstm(['seq', 2, 3], {}, 13)).toBeInstanceOf(OnnxUnsupportedError);
    // With layout 1 the steps are axis 1; a symbolic batch there is fine for the importer.
    expect(lstm(['batch', 4, 3], { layout: attrInt(1) })).toBeUndefined();
  });

  it('bad attributes say what is wrong', () => {
    const msg = (attrs: Record<string, Record<string, unknown>>): string => String((lstm([4, 2, 3], attrs) as Error).message);
    expect(msg({ activations: { type: 8, strings: ['Sigmoid', 'Tanh', 'Gelu'].map((s) => new TextEncoder().encode(s)) } })).toMatch(/activation 'Gelu' is not one the spec allows/);
    expect(msg({ activations: { type: 8, strings: ['Sigmoid', 'Tanh'].map((s) => new TextEncoder().encode(s)) } })).toMatch(/needs 3 activations, got 2/);
    expect(msg({ activations: { type: 8, strings: ['Sigmoid', 'ScaledTanh', 'Tanh'].map((s) => new TextEncoder().encode(s)) }, activation_alpha: attrFloats([1]) })).toMatch(
      /ScaledTanh needs beta \(it has no default\); add it to activation_beta/,
    );
    expect(msg({ direction: attrString('sideways') })).toMatch(/direction must be forward, reverse or bidirectional, got 'sideways'/);
    expect(msg({ hidden_size: attrInt(3) })).toMatch(/W 'W' must be \[1,12,3\], got \[1,8,3\]/);
    expect(msg({ layout: attrInt(2) })).toMatch(/layout must be 0 or 1, got 2/);
  });
});
