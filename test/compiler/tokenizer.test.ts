// compiler/tokenizer.ts (text <-> ids through @huggingface/tokenizers) and scripts/lib/tiny-tokenizer.ts (the
// tokenizer.json written beside tiny random checkpoints). Expected ids are read from the vocabulary, never taken
// from the library, so the library's BPE is checked rather than trusted.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, TokenizerError } from '../../compiler/tokenizer.js';
import {
  TINY_TOKENIZER_MIN_VOCAB,
  TINY_TOKENIZER_SPECIAL_TOKENS,
  tinyTokenizerJson,
} from '../../scripts/lib/tiny-tokenizer.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';

interface TokenizerJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  model: { type?: string; vocab: Record<string, number>; merges?: string[] };
  pre_tokenizer?: unknown;
  normalizer?: unknown;
}

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'kiln-tokenizer-'));

/** Writes `content` as tokenizer.json (plus optional sibling files) in a fresh folder; returns the file's path. */
function writeTokenizerFile(content: string, siblings: Record<string, string> = {}): string {
  const dir = freshDir();
  for (const [name, text] of Object.entries(siblings)) writeFileSync(join(dir, name), text);
  const path = join(dir, 'tokenizer.json');
  writeFileSync(path, content);
  return path;
}

const tinyTokenizerFile = (vocabSize: number): string => writeTokenizerFile(JSON.stringify(tinyTokenizerJson(vocabSize)));

const tiny = (vocabSize: number) => tinyTokenizerJson(vocabSize) as TokenizerJson;

/** The characters that have a single-character token: text made of them must round-trip. */
const singleCharacters = (json: TokenizerJson): string[] =>
  Object.keys(json.model.vocab)
    .filter((token) => [...token].length === 1)
    .map((symbol) => (symbol === 'Ġ' ? ' ' : symbol === 'Ċ' ? '\n' : symbol));

const VOCAB_SIZES = [TINY_TOKENIZER_MIN_VOCAB, 64, 100, 128, 256, 512, 4096];

describe('tinyTokenizerJson', () => {
  it.each(VOCAB_SIZES)('has exactly %i vocabulary entries, ids 0..n-1, and valid merges', (vocabSize) => {
    const json = tiny(vocabSize);
    const ids = Object.values(json.model.vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: vocabSize }, (_, i) => i));
    for (const { id, content } of json.added_tokens) expect(json.model.vocab[content]).toBe(id);
    // Both halves of every merge come before the merged token, which is itself in the vocabulary.
    const badMerges = (json.model.merges ?? []).filter((merge) => {
      const [left, right] = merge.split(' ') as [string, string];
      const [l, r, merged] = [left, right, left + right].map((token) => json.model.vocab[token] ?? Infinity);
      return !(merged! < Infinity && l! < merged! && r! < merged!);
    });
    expect(badMerges).toEqual([]);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(tinyTokenizerJson(300))).toBe(JSON.stringify(tinyTokenizerJson(300)));
  });

  it('puts the special tokens at the ids it exports', () => {
    const json = tiny(64);
    for (const { id, content } of Object.values(TINY_TOKENIZER_SPECIAL_TOKENS))
      expect(json.added_tokens.find((t) => t.content === content)).toMatchObject({ id, special: true });
  });

  it('gives 64 entries room for space, lowercase letters and digits', () => {
    const characters = singleCharacters(tiny(64));
    for (const c of ' abcxyz0189') expect(characters).toContain(c);
  });

  it('rejects vocabulary sizes too small to spell words', () => {
    expect(() => tinyTokenizerJson(TINY_TOKENIZER_MIN_VOCAB - 1)).toThrow(RangeError);
    expect(() => tinyTokenizerJson(64.5)).toThrow(RangeError);
  });
});

describe('loadTokenizer on the tiny tokenizer', () => {
  it.each(VOCAB_SIZES)('round-trips text over its characters with ids below vocab size %i', async (vocabSize) => {
    const tokenizer = await loadTokenizer(tinyTokenizerFile(vocabSize));
    expect(tokenizer.vocabSize).toBe(vocabSize);
    const characters = singleCharacters(tiny(vocabSize));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...characters), maxLength: 60 }), (text) => {
        const ids = tokenizer.encode(text);
        expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocabSize)).toBe(true);
        expect(tokenizer.decode(ids)).toBe(text);
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips a prompt with capitals, punctuation and a newline once the vocabulary has room for them', async () => {
    const tokenizer = await loadTokenizer(tinyTokenizerFile(512));
    const prompt = 'Hello, world! The answer is 42.\nAsk again?';
    const ids = tokenizer.encode(prompt);
    expect(ids.every((id) => id < 512)).toBe(true);
    expect(tokenizer.decode(ids)).toBe(prompt);
  });

  it('encodes a common word to its whole-word token, read from the vocabulary', async () => {
    const { vocab } = tiny(4096).model;
    const tokenizer = await loadTokenizer(tinyTokenizerFile(4096));
    // Byte-level BPE spells a leading space as 'Ġ'; ' the world' is two whole words, both in the merge list.
    expect(vocab['Ġthe']).toBeDefined();
    expect(vocab['Ġworld']).toBeDefined();
    expect(tokenizer.encode(' the world')).toEqual([vocab['Ġthe'], vocab['Ġworld']]);
    // Without merges for it, a word is spelled one character per token.
    const small = await loadTokenizer(tinyTokenizerFile(64));
    const smallVocab = tiny(64).model.vocab;
    expect(small.encode('ab c')).toEqual([smallVocab['a'], smallVocab['b'], smallVocab['Ġ'], smallVocab['c']]);
  });

  it('encodes characters outside the vocabulary as <unk> and leaves special tokens out of decoded text', async () => {
    const tokenizer = await loadTokenizer(tinyTokenizerFile(64));
    const { unk, bos, eos } = TINY_TOKENIZER_SPECIAL_TOKENS;
    expect(tokenizer.encode('a~b')).toEqual([tokenizer.encode('a')[0], unk.id, tokenizer.encode('b')[0]]);
    expect(tokenizer.decode([bos.id, ...tokenizer.encode('hi there'), eos.id])).toBe('hi there');
  });

  it('decodes no ids, and ids past the vocabulary, to nothing', async () => {
    const tokenizer = await loadTokenizer(tinyTokenizerFile(64));
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.decode([...tokenizer.encode('ok'), 64, 1000])).toBe('ok');
  });

  it('reads tokenizer_config.json beside it, and without one keeps spaces before punctuation', async () => {
    const json = JSON.stringify(tinyTokenizerJson(128));
    const plain = await loadTokenizer(writeTokenizerFile(json));
    expect(plain.decode(plain.encode('a , b .'))).toBe('a , b .');
    const cleaning = await loadTokenizer(
      writeTokenizerFile(json, { 'tokenizer_config.json': JSON.stringify({ clean_up_tokenization_spaces: true }) }),
    );
    expect(cleaning.decode(cleaning.encode('a , b .'))).toBe('a, b.');
  });
});

describe('loadTokenizer errors name the file and the reason', () => {
  const rejects = async (path: string, reason: RegExp): Promise<void> => {
    const error = await loadTokenizer(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenizerError);
    expect((error as Error).message).toContain(`${path} is not a Hugging Face tokenizer.json: `);
    expect((error as Error).message).toMatch(reason);
  };

  it('for a missing file', () => rejects(join(freshDir(), 'tokenizer.json'), /does not exist/));
  it('for a directory', () => rejects(freshDir(), /is a directory/));
  it('for text that is not JSON', () => rejects(writeTokenizerFile('{"model": '), /not valid JSON/));
  it('for JSON that is not an object', () => rejects(writeTokenizerFile('[1, 2]'), /top level is not a JSON object/));
  it('for a file without a model', () => rejects(writeTokenizerFile('{"added_tokens": []}'), /no "model"/));
  it('for a model without a vocabulary', () =>
    rejects(writeTokenizerFile('{"model": {"type": "BPE", "merges": []}}'), /no "vocab"/));
  it('for a bad added_tokens', () =>
    rejects(writeTokenizerFile('{"model": {"type": "BPE", "vocab": {}, "merges": []}, "added_tokens": 3}'), /added_tokens/));

  it('for a component the library does not know, passing on its reason', () => {
    const json = { ...tinyTokenizerJson(64), pre_tokenizer: { type: 'NoSuchPreTokenizer' } };
    return rejects(writeTokenizerFile(JSON.stringify(json)), /NoSuchPreTokenizer/);
  });

  it('for a malformed tokenizer_config.json, naming that file', async () => {
    const path = writeTokenizerFile(JSON.stringify(tinyTokenizerJson(64)), { 'tokenizer_config.json': '{oops' });
    await expect(loadTokenizer(path)).rejects.toThrow(/tokenizer_config\.json is not a valid tokenizer_config\.json/);
  });

  it('accepts a file that leaves out the optional parts (no normalizer, decoder, added_tokens ...)', async () => {
    const path = writeTokenizerFile(JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] } }));
    const tokenizer = await loadTokenizer(path);
    expect(tokenizer.encode('ab')).toEqual([2]);
  });
});

// A real model's tokenizer.json, when the shared material has one: 'hello world' must encode to the ids of the
// whole-word tokens that the model's conventions spell it with, read from its vocabulary.
const sharedTokenizerFiles = (): string[] => {
  if (!haveShared()) return [];
  const models = join(sharedDir()!, 'models');
  if (!existsSync(models)) return [];
  return readdirSync(models)
    .map((name) => join(models, name, 'tokenizer.json'))
    .filter((path) => existsSync(path));
};

/** How 'hello' and ' world' are spelled as whole-word tokens, by the tokenizer's family; undefined when unknown. */
function wholeWordSpelling(json: TokenizerJson): [string, string] | undefined {
  const text = (part: unknown): string => JSON.stringify(part ?? null);
  if (text(json.pre_tokenizer).includes('"ByteLevel"')) return ['hello', 'Ġworld'];
  if (text(json.pre_tokenizer).includes('▁') || text(json.normalizer).includes('▁')) return ['▁hello', '▁world'];
  if (json.model.type === 'WordPiece') return ['hello', 'world'];
  return undefined;
}

describe.runIf(sharedTokenizerFiles().length > 0)('loadTokenizer on real tokenizers in the shared material', () => {
  it.each(sharedTokenizerFiles())('%s encodes "hello world" to the ids of its whole-word tokens', async (path) => {
    const json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
    const spelling = wholeWordSpelling(json);
    const expected = spelling?.map((token) => json.model.vocab[token]);
    if (!expected || expected.some((id) => id === undefined)) {
      console.warn(`${path}: no whole-word tokens known for "hello world"; only loading it`);
      await loadTokenizer(path);
      return;
    }
    const specialIds = new Set(json.added_tokens.filter((t) => t.special).map((t) => t.id));
    const tokenizer = await loadTokenizer(path);
    const ids = tokenizer.encode('hello world');
    expect(ids.filter((id) => !specialIds.has(id))).toEqual(expected);
    expect(tokenizer.decode(ids).trim()).toBe('hello world');
  });
});
