// Recurrent stacks as voice-activity and wake-word models export them (PyTorch nn.LSTM/GRU with num_layers 2, a
// dynamic batch and sequence, initial states as graph inputs), imported with symbolic dims and compiled ONCE for a
// range of both: one artifact runs every size on the adapter (1, ragged, the bounds) within 1e-4 of the interpreter,
// matches onnxruntime's CPU provider where it runs the model, and creates no device object during run(). The
// sequence is unrolled to its bound and masked by the run-time length (ir/import/onnx/ops/recurrent-length.ts).
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { bindSymbols, interpret, makeTensor } from '../../ir/index.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import type { Tensor } from '../../ir/tensor.js';
import { Session } from '../../runtime/index.js';
import { type RnnStack, mismatch, ortStackOutputs, rnnStackInputs, rnnStackModel } from '../../scripts/lib/recurrent-models.js';
import { ortOrSkip } from '../../scripts/lib/ort.js';
import { creations } from './creations.js';
import { testGpu } from './harness.js';

const SEQ = { min: 1, max: 9 };
const BATCH = { min: 1, max: 5 };

/** [seq, batch] pairs: the least, both bounds, ragged ones in between. */
const SIZES = [[1, 1], [9, 5], [5, 3], [2, 4], [7, 1]] as const;

/**
 * Compiles the stack once (batch narrowed after import, as `--dim batch=1..5` does) and runs SIZES against the
 * interpreter; `ortAt` picks the size also checked against onnxruntime.
 */
async function expectStackRuns(s: RnnStack, ortAt?: readonly [number, number]): Promise<void> {
  const gpu = await testGpu();
  const { graph } = importOnnx(rnnStackModel(s), { symbols: { seq: SEQ, batch: { min: 1, max: 64 } } });
  const ranged = bindSymbols(graph, { batch: BATCH });
  const artifact = compileGraph(ranged, { source: `${s.op}-stack`, target: { shaderF16: false } });
  expect(artifact.manifest.symbols).toEqual([
    { name: 'batch', ...BATCH },
    { name: 'seq', ...SEQ },
  ]);
  const session = await Session.load(artifactFiles(artifact, `memory:${s.op}`), { device: gpu.acquired });
  const ort = ortAt && ortOrSkip('symbolic-recurrent', 'the stacks are checked against the interpreter only');
  try {
    for (const [seq, batch] of SIZES) {
      const where = `seq ${seq}, batch ${batch}`;
      const inputs = rnnStackInputs(s, seq, batch, 100 * seq + batch);
      const want = interpret(graph, inputs);
      let out: Awaited<ReturnType<Session['run']>> = {};
      const made = await creations(session.device, async () => {
        out = await session.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { data: t.data, shape: t.shape }])));
      });
      expect(made, `objects created by run() at ${where}`).toBe(0);
      const got: Record<string, Tensor> = Object.fromEntries(Object.entries(out).map(([k, t]) => [k, makeTensor('f32', t.shape, Float64Array.from(t.data))]));
      const bad = (reference: Record<string, Tensor>): string[] =>
        Object.keys(reference).flatMap((o) => {
          const m = mismatch(got[o], reference[o]!, 1e-4, 1e-4);
          return m ? [`${o}: ${m}`] : [];
        });
      expect(Object.keys(got).sort(), where).toEqual(Object.keys(want).sort());
      expect(bad(want), `${where} vs the interpreter`).toEqual([]);
      if (ort && seq === ortAt![0] && batch === ortAt![1]) expect(bad(await ortStackOutputs(s, inputs)), `${where} vs onnxruntime`).toEqual([]);
    }
  } finally {
    session.dispose();
  }
}

describe('recurrent stacks with a symbolic batch and sequence on the adapter', () => {
  it('a 2-layer bidirectional LSTM with initial h and c as inputs', async () => {
    await expectStackRuns({ op: 'LSTM', opset: 14, layers: 2, input: 6, hidden: 11, direction: 'bidirectional', layout: 0, seq: 'seq', batch: 'batch', initialStates: true, seqLens: false, seed: 21 }, [5, 3]);
  }, 600_000);

  it('a 2-layer GRU with an initial state as input', async () => {
    await expectStackRuns({ op: 'GRU', opset: 22, layers: 2, input: 5, hidden: 13, direction: 'forward', layout: 0, seq: 'seq', batch: 'batch', initialStates: true, seqLens: false, seed: 22 }, [9, 5]);
  }, 600_000);

  it('a batch-major (layout 1) reverse GRU stack with sequence_lens and no initial state', async () => {
    // onnxruntime runs no layout 1, so the interpreter alone (whose expansion test/import/recurrent-symbolic.test.ts
    // checks against onnxruntime through the seq-major twin) is the reference.
    await expectStackRuns({ op: 'GRU', opset: 14, layers: 2, input: 4, hidden: 7, direction: 'reverse', layout: 1, seq: 'seq', batch: 'batch', initialStates: false, seqLens: true, seed: 23 });
  }, 600_000);
});
