// Llama-family import (llama, qwen2 biases, GQA, tied and untied heads): the interpreter on the imported prefill
// and decode graphs against an independent whole-sequence forward pass.
import { describe, expect, it } from 'vitest';
import { importHf } from '../../ir/import/hf/index.js';
import type { Preset } from '../../scripts/lib/checkpoints.js';
import { checkDecoder } from './hf-decoder-check.js';
import { promptIds, tempCheckpoint } from './hf-fixtures.js';
import { llamaForward } from './hf-reference.js';

const TOLERANCE = 1e-4;

interface Case {
  readonly what: string;
  readonly preset: Preset;
  /** Random tied models like to repeat one token; seed 6 changes token often enough for agreement to mean much. */
  readonly seed: number;
  readonly format?: 'F16' | 'BF16';
}

const CASES: readonly Case[] = [
  { what: 'untied GQA llama (4 heads share 2 kv heads)', preset: 'tiny', seed: 1 },
  { what: 'tied-embedding llama', preset: 'tiny-tied', seed: 6 },
  { what: 'llama with attention_bias and mlp_bias', preset: { attention_bias: true, mlp_bias: true }, seed: 1 },
  { what: 'qwen2 (q/k/v biases) with head_dim != hidden / heads', preset: { model_type: 'qwen2', head_dim: 16 }, seed: 1 },
  { what: 'mistral (MHA, rope_theta 1e6) from a BF16 checkpoint', preset: { model_type: 'mistral', num_key_value_heads: 4, rope_theta: 1e6, sliding_window: null }, seed: 1, format: 'BF16' },
];

describe('llama import', () => {
  for (const c of CASES)
    it(`${c.what}: chunked prefill + decode match the reference for 16 greedy steps`, () => {
      const ck = tempCheckpoint('llama', c.preset, c.format ? { format: c.format } : {}, c.seed);
      const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 48, chunk: 8 });
      // 19 tokens: chunks of 8, 8 and a padded 3 (len < T).
      const prompt = promptIds(19, 96);
      const r = checkDecoder(model, (ids) => llamaForward(ck.configPath, ck.weightsPath, ids), prompt, 16);
      expect(r.chunks).toBe(3);
      expect(r.logitSpread).toBeGreaterThan(0.3);
      expect(r.prefillDiff).toBeLessThan(TOLERANCE);
      expect(r.stepDiff).toBeLessThan(TOLERANCE);
      expect(r.tokens).toHaveLength(16);
      expect(r.tokens).toEqual(r.referenceTokens);
      expect(new Set(r.tokens).size).toBeGreaterThan(2);
    });

  it('uses the embedding as the head when tied, and lm_head when not', () => {
    for (const [preset, head] of [['tiny', 'lm_head.weight'], ['tiny-tied', 'model.embed_tokens.weight']] as const) {
      const ck = tempCheckpoint('llama', preset);
      const { graph } = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 16 }).entries.decode!;
      const gemms = graph.nodes.filter((n) => n.op === 'Gemm');
      expect(gemms.at(-1)!.inputs[1]).toBe(head);
      expect(graph.constants.filter((c) => c.name === 'model.embed_tokens.weight')).toHaveLength(1);
    }
  });

  it('uses lm_head-less untied checkpoints with a note', () => {
    const ck = tempCheckpoint('llama', 'tiny', { transform: (ts) => ts.filter((t) => t.name !== 'lm_head.weight') });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 16 });
    expect(model.notes.join('\n')).toMatch(/lm_head\.weight is absent though tie_word_embeddings is false; using model\.embed_tokens\.weight/);
  });
});
