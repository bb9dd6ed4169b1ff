// `kiln generate`: decoding with a decoder artifact, greedy or sampled (--temperature, --top-k, --top-p, --seed).
// The prompt is token ids (--ids) or text (--prompt), which goes through the Hugging Face tokenizer.json the
// artifact ships; new text is printed as it is generated (or everything as one JSON object with --json).
import { join } from 'node:path';
import { type SamplingOptions, Session } from '../../runtime/index.js';
import { loadTokenizer } from '../tokenizer.js';
import { UsageError } from './errors.js';
import { readManifestFile } from './files.js';
import { textStream } from './text-stream.js';
import { createProgress, loadProgress } from './progress.js';
import type { Output } from './ir-commands.js';

export interface GenerateCommandOptions {
  ids?: string;
  prompt?: string;
  maxNewTokens: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  seed?: string;
  json?: boolean;
}

/** The sampling flags as numbers, each checked by name so the message points at the flag to fix. */
function samplingOptions(opts: GenerateCommandOptions): SamplingOptions {
  const number = (flag: string, text: string | undefined, fallback: number, ok: (v: number) => boolean, expected: string): number => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (text.trim() === '' || !ok(v)) throw new UsageError(`${flag} ${text}: expected ${expected}`);
    return v;
  };
  const sampling: SamplingOptions = {
    temperature: number('--temperature', opts.temperature, 0, (v) => Number.isFinite(v) && v >= 0, 'a number >= 0 (0 is greedy)'),
    topK: number('--top-k', opts.topK, 0, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer (0 keeps every token)'),
    topP: number('--top-p', opts.topP, 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    seed: number('--seed', opts.seed, 0, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in 0..4294967295'),
  };
  if (sampling.temperature === 0 && (sampling.topK !== 0 || sampling.topP !== 1))
    throw new UsageError('--top-k and --top-p shape sampling, which needs --temperature above 0 (at 0 generation is greedy)');
  return sampling;
}

function parseIds(list: string): number[] {
  const ids = list.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--ids ${list}: expected comma-separated non-negative integers, e.g. --ids 1,2,3`);
  return ids.map(Number);
}

export async function generateCommand(dir: string, opts: GenerateCommandOptions, io: Output): Promise<number> {
  if ((opts.ids === undefined) === (opts.prompt === undefined)) throw new UsageError('give the prompt as --ids 1,2,3 or as --prompt "text" (one of them)');
  const maxNewTokens = Number(opts.maxNewTokens);
  const sampling = samplingOptions(opts);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new UsageError(`--max-new-tokens ${opts.maxNewTokens}: expected a non-negative integer`);
  const manifest = readManifestFile(dir);
  if (!manifest.generation) throw new UsageError(`${dir}: this artifact has no prefill/decode entry points; kiln generate needs a decoder compiled from its config.json`);
  let tokenizer;
  if (opts.prompt !== undefined) {
    if (!manifest.tokenizer) throw new UsageError(`${dir}: the artifact ships no tokenizer.json (the checkpoint had none); give the prompt as --ids`);
    tokenizer = await loadTokenizer(join(dir, manifest.tokenizer));
  }
  const ids = tokenizer ? tokenizer.encode(opts.prompt!) : parseIds(opts.ids!);
  const progress = createProgress();
  const session = await Session.load(dir, { onProgress: loadProgress(progress) }).finally(() => progress.stop());
  try {
    if (opts.json) {
      const tokens = await session.generate(ids, { maxNewTokens, ...sampling });
      const text = tokenizer ? tokenizer.decode(tokens) : undefined;
      io.out(JSON.stringify({ tokens, ...(text !== undefined ? { text } : {}) }));
      return 0;
    }
    // Text (or, without a tokenizer, the ids) appears as it is generated.
    const decode = tokenizer ? (t: readonly number[]) => tokenizer.decode(t) : (t: readonly number[]) => t.join(' ');
    const stream = textStream(decode, io.write);
    await session.generate(ids, { maxNewTokens, ...sampling, onToken: (t: number) => stream.push(t) });
    stream.end();
    return 0;
  } finally {
    session.dispose();
  }
}
