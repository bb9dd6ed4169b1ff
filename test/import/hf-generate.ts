// Greedy generation with the reference interpreter over an imported decoder (HfModel 'prefill'/'decode'): the
// oracle the GPU runtime's tokens are compared with. It drives the entry contract exactly as a runtime must:
// caches start at zero, the prompt goes in chunk-sized prefill calls (the last one padded, len < T), then one
// decode call per token, and every call's state outputs become the next call's state inputs.
import type { HfEntry, HfGeneration, HfModel } from '../../ir/import/hf/index.js';
import { interpret } from '../../ir/interp.js';
import { type Tensor, makeTensor, scalarTensor } from '../../ir/tensor.js';

export interface InterpStepResult {
  readonly logits: Float64Array;
  readonly nextToken: number;
}

/** One sequence's interpreter state: its caches and how many tokens they hold. */
export class InterpDecoder {
  private readonly state = new Map<string, Tensor>();
  private readonly gen: HfGeneration;
  /** Tokens in the cache. */
  position = 0;

  constructor(readonly model: HfModel) {
    if (!model.generation) throw new Error(`a ${model.family} model has no generation entries`);
    this.gen = model.generation;
    for (const entry of [this.entry(this.gen.prefill), this.entry(this.gen.decode)])
      for (const s of entry.state) {
        const decl = entry.graph.inputs.find((i) => i.name === s.input);
        if (!decl) throw new Error(`state input ${s.input} is not an input of ${entry.graph.name}`);
        if (!this.state.has(s.input)) this.state.set(s.input, makeTensor(decl.type.dtype, decl.type.shape as number[], () => 0));
      }
  }

  private entry(name: string): HfEntry {
    const e = this.model.entries[name];
    if (!e) throw new Error(`model has no entry '${name}'`);
    return e;
  }

  /** Run one call of `entryName` on `ids` (at most its T rows; padded with zeros), advancing the position. */
  private call(entryName: string, ids: readonly number[]): InterpStepResult {
    const entry = this.entry(entryName);
    const rows = entry.graph.inputs.find((i) => i.name === this.gen.ids)!.type.shape[0] as number;
    if (ids.length < 1 || ids.length > rows) throw new Error(`${entryName} takes 1..${rows} ids, got ${ids.length}`);
    if (this.position + ids.length > this.gen.maxSeq) throw new Error(`the sequence would exceed maxSeq ${this.gen.maxSeq}`);
    const inputs: Record<string, Tensor> = {
      [this.gen.ids]: makeTensor('i32', [rows], (i) => ids[i] ?? 0),
      [this.gen.position]: scalarTensor('i32', this.position),
      [this.gen.length]: scalarTensor('i32', ids.length),
    };
    for (const s of entry.state) inputs[s.input] = this.state.get(s.input)!;
    const out = interpret(entry.graph, inputs);
    for (const s of entry.state) this.state.set(s.input, out[s.output]!);
    this.position += ids.length;
    return { logits: Float64Array.from(out[this.gen.logits]!.data), nextToken: out[this.gen.nextToken]!.data[0]! };
  }

  /** Prefill `ids` chunk by chunk; one result per chunk (the logits of its last token). */
  prefill(ids: readonly number[]): InterpStepResult[] {
    const results: InterpStepResult[] = [];
    for (let at = 0; at < ids.length; at += this.gen.chunk) results.push(this.call(this.gen.prefill, ids.slice(at, at + this.gen.chunk)));
    return results;
  }

  decode(token: number): InterpStepResult {
    return this.call(this.gen.decode, [token]);
  }
}

/**
 * Generation of `maxNewTokens` tokens after `ids` (no stop at EOS: callers compare fixed-length runs), greedy
 * unless `choose` picks each token from the step's logits (a sampler). logits[i] are the logits that chose
 * tokens[i]: the prompt's last row for i = 0, then each decode call's.
 */
export function interpGenerate(
  model: HfModel,
  ids: number[],
  maxNewTokens: number,
  choose?: (logits: Float64Array) => number,
): { tokens: number[]; logits: Float64Array[] } {
  if (ids.length === 0) throw new Error('interpGenerate needs a non-empty prompt');
  const decoder = new InterpDecoder(model);
  const tokens: number[] = [];
  const logits: Float64Array[] = [];
  if (maxNewTokens <= 0) return { tokens, logits };
  let step = decoder.prefill(ids).at(-1)!;
  for (;;) {
    const token = choose ? choose(step.logits) : step.nextToken;
    tokens.push(token);
    logits.push(step.logits);
    if (tokens.length === maxNewTokens) return { tokens, logits };
    step = decoder.decode(token);
  }
}
