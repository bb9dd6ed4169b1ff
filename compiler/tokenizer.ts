// Text <-> token ids for `kiln generate --prompt`, through Hugging Face's Tokenizers.js (@huggingface/tokenizers),
// which implements the tokenizer.json format (normalizers, pre-tokenizers, BPE/WordPiece/Unigram models,
// post-processors, decoders). Tokenizing by hand would drift from the model's real tokenizer on the first merge rule
// or normalizer it got wrong, so this file only loads and checks files and adapts the library's API.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export interface TextTokenizer {
  /**
   * The ids of `text`, with whatever special tokens the tokenizer's own post-processor adds (BERT's [CLS]/[SEP],
   * Llama's <s>), as Transformers' `tokenizer(text)` does: the model was trained on inputs shaped like that.
   */
  encode(text: string): number[];
  /**
   * The text of `ids`, special tokens left out (as text-generation output is shown). Ids the vocabulary has no token
   * for are left out too, as the Rust `tokenizers` library does: a model's embedding is often padded past the
   * tokenizer's vocabulary, and sampling may land there.
   */
  decode(ids: readonly number[]): string;
  /** One past the highest token id, added tokens included: the model's vocab_size must be at least this. */
  readonly vocabSize: number;
}

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** Loads a Hugging Face tokenizer.json, and the tokenizer_config.json beside it when there is one. */
export async function loadTokenizer(path: string): Promise<TextTokenizer> {
  const notATokenizer = (reason: string, cause?: unknown): TokenizerError =>
    new TokenizerError(`${path} is not a Hugging Face tokenizer.json: ${reason}`, { cause });

  const json = await readJsonFile(path, notATokenizer);
  const config = await readTokenizerConfig(join(dirname(path), 'tokenizer_config.json'));
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(withOptionalPartsFilledIn(json, notATokenizer), config);
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    // The library's own complaint (e.g. "Unknown PreTokenizer type: X") is the most precise reason there is.
    throw notATokenizer(e instanceof Error ? e.message : String(e), e);
  }
  return wrap(tokenizer);
}

function wrap(tokenizer: Tokenizer): TextTokenizer {
  let highestId = -1;
  for (const id of tokenizer.get_vocab(true).values()) highestId = Math.max(highestId, id);
  return {
    vocabSize: highestId + 1,
    encode(text) {
      // A model with no unknown token (and no byte fallback) yields no id for text outside its vocabulary; feeding
      // the model `undefined` would fail far from here.
      const ids: (number | undefined)[] = tokenizer.encode(text).ids;
      if (ids.some((id) => id === undefined))
        throw new TokenizerError(
          `cannot encode ${JSON.stringify(text)}: part of it has no token and the tokenizer has no unknown token`,
        );
      return ids as number[];
    },
    decode(ids) {
      const known = ids.filter((id) => tokenizer.id_to_token(id) !== undefined);
      // The library rejects an empty list; the text of no tokens is simply empty.
      if (known.length === 0) return '';
      return tokenizer.decode([...known], { skip_special_tokens: true });
    },
  };
}

async function readJsonFile(path: string, fail: (reason: string, cause?: unknown) => Error): Promise<unknown> {
  let text: string;
  try {
    if ((await stat(path)).isDirectory()) throw fail('it is a directory (pass the tokenizer.json file inside it)');
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'the file does not exist' : `it cannot be read (${(e as Error).message})`, e);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fail(`it is not valid JSON (${(e as Error).message})`, e);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the parts every tokenizer.json has, and fills in the optional ones as null/empty: the Rust library treats
 * a missing normalizer or decoder as none, while Tokenizers.js insists on every key and crashes on a missing
 * added_tokens list.
 */
function withOptionalPartsFilledIn(
  json: unknown,
  fail: (reason: string) => Error,
): Record<string, unknown> {
  if (!isObject(json)) throw fail('its top level is not a JSON object');
  const model = json.model;
  if (!isObject(model)) throw fail('it has no "model" object');
  if (!isObject(model.vocab) && !Array.isArray(model.vocab)) throw fail('its "model" has no "vocab"');
  const addedTokens = json.added_tokens ?? [];
  if (!Array.isArray(addedTokens)) throw fail('its "added_tokens" is not a list');
  return {
    ...json,
    normalizer: json.normalizer ?? null,
    pre_tokenizer: json.pre_tokenizer ?? null,
    post_processor: json.post_processor ?? null,
    decoder: json.decoder ?? null,
    added_tokens: addedTokens,
  };
}

/**
 * tokenizer_config.json carries Transformers-level settings (extra special tokens, whether decoding cleans up spaces
 * before punctuation). Without one the tokenizer.json alone defines the tokenizer, as in the Rust library, so there
 * is no clean-up; Tokenizers.js would otherwise apply Transformers' legacy default and turn "a , b" into "a, b".
 */
async function readTokenizerConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { clean_up_tokenization_spaces: false };
    throw new TokenizerError(`${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${path} is not a valid tokenizer_config.json: not valid JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
  if (!isObject(config))
    throw new TokenizerError(`${path} is not a valid tokenizer_config.json: its top level is not a JSON object`);
  return config;
}
