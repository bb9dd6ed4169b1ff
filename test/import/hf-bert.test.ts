// BERT import: the 'run' entry on a padded sequence against an independent forward over the valid tokens, with
// the pooler, without it, with the 'bert.' prefix and with TensorFlow-era gamma/beta LayerNorm names.
import { describe, expect, it } from 'vitest';
import { importHf } from '../../ir/import/hf/index.js';
import { interpret } from '../../ir/interp.js';
import { makeTensor, scalarTensor } from '../../ir/tensor.js';
import type { WriteOptions } from '../../scripts/lib/checkpoints.js';
import { promptIds, tempCheckpoint } from './hf-fixtures.js';
import { bertForward, maxAbsDiff } from './hf-reference.js';

const TOLERANCE = 1e-4;
const SEQ = 16;
const VALID = 11;

function runBert(options: WriteOptions) {
  const ck = tempCheckpoint('bert', 'tiny', options);
  const model = importHf(ck.configPath, { weights: ck.weightsPath, seq: SEQ });
  const ids = promptIds(VALID, 96);
  const types = ids.map((_, t) => (t < 6 ? 0 : 1));
  const { graph } = model.entries.run!;
  const out = interpret(graph, {
    input_ids: makeTensor('i32', [SEQ], (t) => ids[t] ?? 0),
    token_type_ids: makeTensor('i32', [SEQ], (t) => types[t] ?? 0),
    len: scalarTensor('i32', VALID),
  });
  const ref = bertForward(ck.configPath, ck.weightsPath, ids, types);
  const hidden = out.last_hidden_state!;
  const width = hidden.shape[1]!;
  const rowDiff = Math.max(...ref.lastHiddenState.map((r, t) => maxAbsDiff(hidden.data.subarray(t * width, (t + 1) * width), r)));
  return { model, graph, out, ref, rowDiff };
}

describe('bert import', () => {
  it('matches the reference on the valid rows of a padded sequence, pooler included', () => {
    const { model, graph, out, ref, rowDiff } = runBert({});
    expect(model.family).toBe('bert');
    expect(model.generation).toBeUndefined();
    expect(graph.outputs).toEqual(['last_hidden_state', 'pooler_output']);
    expect(graph.types.get('last_hidden_state')!.shape).toEqual([SEQ, 32]);
    expect(rowDiff).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(out.pooler_output!.data, ref.poolerOutput!)).toBeLessThan(TOLERANCE);
  });

  it('masks padding keys: the valid rows do not depend on what the padding holds', () => {
    const { graph } = runBert({});
    const run = (pad: number) =>
      interpret(graph, {
        input_ids: makeTensor('i32', [SEQ], (t) => (t < VALID ? t + 3 : pad)),
        token_type_ids: makeTensor('i32', [SEQ], () => 0),
        len: scalarTensor('i32', VALID),
      }).last_hidden_state!.data.subarray(0, VALID * 32);
    expect(maxAbsDiff(run(5), run(77))).toBe(0);
  });

  it("reads 'bert.'-prefixed checkpoints with gamma/beta LayerNorm names and no pooler", () => {
    const renamed: WriteOptions = {
      tensorPrefix: 'bert.',
      transform: (ts) =>
        ts
          .filter((t) => !t.name.startsWith('pooler.'))
          .map((t) => ({ ...t, name: t.name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta') })),
    };
    const { model, graph, rowDiff } = runBert(renamed);
    expect(graph.outputs).toEqual(['last_hidden_state']);
    expect(graph.constants.some((c) => c.source === 'bert.embeddings.LayerNorm.gamma')).toBe(true);
    expect(model.notes).toContain('no pooler weights: the model has no pooler_output');
    expect(rowDiff).toBeLessThan(TOLERANCE);
  });
});
