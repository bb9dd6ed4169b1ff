// The decoder agreement check shared by the llama and gpt2 tests: an imported model, driven through chunked
// prefill and decode by the interpreter, against an independent whole-sequence forward pass.
import type { HfModel } from '../../ir/import/hf/index.js';
import { InterpDecoder, interpGenerate } from './hf-generate.js';
import { argMax, maxAbsDiff } from './hf-reference.js';

export interface DecoderAgreement {
  /** Worst |logit difference| at the last row of each prefill chunk. */
  readonly prefillDiff: number;
  /** Worst |logit difference| over the generation steps. */
  readonly stepDiff: number;
  readonly tokens: number[];
  /** The reference's greedy choice at each step (given the same sequence so far). */
  readonly referenceTokens: number[];
  readonly chunks: number;
  /** Standard deviation of the reference logits: the check means little when they are all about equal. */
  readonly logitSpread: number;
}

export function checkDecoder(model: HfModel, reference: (ids: readonly number[]) => Float64Array[], prompt: number[], newTokens: number): DecoderAgreement {
  const chunk = model.generation!.chunk;
  const prefill = new InterpDecoder(model).prefill(prompt);
  const { tokens, logits } = interpGenerate(model, prompt, newTokens);
  const ref = reference([...prompt, ...tokens]);
  let prefillDiff = 0;
  prefill.forEach((r, k) => {
    const lastRow = Math.min((k + 1) * chunk, prompt.length) - 1;
    prefillDiff = Math.max(prefillDiff, maxAbsDiff(r.logits, ref[lastRow]!));
  });
  let stepDiff = 0;
  logits.forEach((l, i) => (stepDiff = Math.max(stepDiff, maxAbsDiff(l, ref[prompt.length - 1 + i]!))));
  const referenceTokens = tokens.map((_, i) => argMax(ref[prompt.length - 1 + i]!));
  const all = ref.flatMap((r) => [...r]);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  const logitSpread = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
  return { prefillDiff, stepDiff, tokens, referenceTokens, chunks: prefill.length, logitSpread };
}
