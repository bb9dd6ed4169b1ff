// Generation over a decoder artifact's prefill and decode entry points, following the manifest's
// generation recipe (names of the ids/position/length inputs and of the next-token output). The KV cache lives
// in the artifact's state buffers: prefill writes the prompt's rows chunk by chunk, each decode step writes one
// row at `position` and reads rows below it, so stale rows from an earlier call are overwritten before they are
// ever read and no reset is needed between calls. Greedy steps read back only the next token (4 bytes); sampled
// steps read back the logits and draw on the CPU (sampling.ts).
import type { GenerationDecl, Manifest } from './plan.js';
import { type SamplingOptions, checkSampling, isGreedy, sampleToken, seededRandom } from './sampling.js';
import type { OutputTensor, RunOptions } from './session.js';

/** What generation needs of a session: its plan, and a run that bypasses the session's queue (generate holds it). */
export interface Runner {
  readonly manifest: Manifest;
  run(inputs: Readonly<Record<string, readonly number[]>>, entry: string, opts: RunOptions): Promise<Record<string, OutputTensor>>;
}

export interface GenerateOptions extends SamplingOptions {
  /** New tokens to produce (default 16). */
  readonly maxNewTokens?: number;
  /** Stop after the end-of-sequence token when the model declares one (default true). */
  readonly stopAtEos?: boolean;
  /** Called with each new token as soon as it is known. */
  readonly onToken?: (token: number) => void;
}

export class GenerationError extends Error {
  override name = 'GenerationError';
}

function recipe(session: Runner): GenerationDecl {
  const g = session.manifest.generation;
  if (!g) throw new GenerationError(`the artifact '${session.manifest.model.name}' has no generation entry points (compile a decoder's config.json to get prefill/decode)`);
  return g;
}

export async function generate(session: Runner, ids: readonly number[], opts: GenerateOptions = {}): Promise<number[]> {
  const g = recipe(session);
  const max = opts.maxNewTokens ?? 16;
  if (!Number.isInteger(max) || max < 0) throw new GenerationError(`maxNewTokens must be a non-negative integer, got ${max}`);
  if (ids.length === 0) throw new GenerationError('the prompt is empty: give at least one token id');
  ids.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= g.vocabSize) throw new GenerationError(`token id ${t} at index ${i} is outside the vocabulary (0..${g.vocabSize - 1})`);
  });
  checkSampling(opts);
  if (max === 0) return [];
  if (ids.length + max - 1 > g.maxSeq)
    throw new GenerationError(
      `${ids.length} prompt tokens + ${max} new tokens need ${ids.length + max - 1} cache positions; the artifact holds ${g.maxSeq} (compile with a larger --max-seq)`,
    );
  const greedy = isGreedy(opts);
  const random = seededRandom(opts.seed ?? 0);
  /** One call of `entry`; `choose` false skips the choice (an inner prefill chunk), so it draws no random number. */
  const step = async (entry: string, tokens: readonly number[], position: number, length: number, choose = true): Promise<number> => {
    const wanted = greedy || !choose ? g.nextToken : g.logits;
    const out = await session.run({ [g.ids]: tokens, [g.position]: [position], [g.length]: [length] }, entry, { outputs: [wanted] });
    const data = out[wanted]!.data as ArrayLike<number>;
    return wanted === g.nextToken ? Number(data[0]) : sampleToken(data, opts, random);
  };

  let next = -1;
  for (let start = 0; start < ids.length; start += g.chunk) {
    const rows = ids.slice(start, start + g.chunk);
    const padded = [...rows, ...new Array<number>(g.chunk - rows.length).fill(0)];
    next = await step(g.prefill, padded, start, rows.length, start + g.chunk >= ids.length);
  }
  const tokens: number[] = [];
  for (let position = ids.length; ; position++) {
    tokens.push(next);
    opts.onToken?.(next);
    if (tokens.length === max || ((opts.stopAtEos ?? true) && g.eosTokenId !== undefined && next === g.eosTokenId)) return tokens;
    next = await step(g.decode, [next], position, 1);
  }
}
