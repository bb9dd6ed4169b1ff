// GPT-2 import: learned positions, fused qkv Conv1D, tanh GELU, tied head; with and without the 'transformer.'
// prefix, and a prefill chunk whose padding rows run past the end of the position table.
import { describe, expect, it } from 'vitest';
import { importHf } from '../../ir/import/hf/index.js';
import { checkDecoder } from './hf-decoder-check.js';
import { promptIds, tempCheckpoint } from './hf-fixtures.js';
import { gpt2Forward } from './hf-reference.js';

const TOLERANCE = 1e-4;

describe('gpt2 import', () => {
  for (const tensorPrefix of ['', 'transformer.'])
    it(`chunked prefill + decode match the reference for 16 greedy steps (tensor prefix '${tensorPrefix}')`, () => {
      const ck = tempCheckpoint('gpt2', 'tiny', { tensorPrefix });
      const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 48, chunk: 8 });
      const r = checkDecoder(model, (ids) => gpt2Forward(ck.configPath, ck.weightsPath, ids), promptIds(21, 96), 16);
      expect(r.chunks).toBe(3);
      expect(r.logitSpread).toBeGreaterThan(0.3);
      expect(r.prefillDiff).toBeLessThan(TOLERANCE);
      expect(r.stepDiff).toBeLessThan(TOLERANCE);
      expect(r.tokens).toEqual(r.referenceTokens);
      expect(new Set(r.tokens).size).toBeGreaterThan(2);
      expect(model.generation!.eosTokenId).toBe(2);
      expect(model.notes).toEqual([]);
    });

  it('fills the whole position table when padding rows of the last chunk run past its end', () => {
    // n_positions 32, chunk 12: the third chunk starts at 24, so its rows reach position 35.
    const ck = tempCheckpoint('gpt2', { n_positions: 32 });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, chunk: 12 });
    expect(model.generation!.maxSeq).toBe(32);
    const r = checkDecoder(model, (ids) => gpt2Forward(ck.configPath, ck.weightsPath, ids), promptIds(26, 96), 6);
    expect(r.chunks).toBe(3);
    expect(Math.max(r.prefillDiff, r.stepDiff)).toBeLessThan(TOLERANCE);
    expect(r.tokens).toEqual(r.referenceTokens);
  });
});
