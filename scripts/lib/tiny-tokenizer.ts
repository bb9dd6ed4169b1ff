// A tiny but real Hugging Face tokenizer.json for tiny random checkpoints, so that `kiln generate --prompt` can be
// tested end to end on models whose vocabularies hold only 64..512 (or any number of) entries.
//
// It is a GPT-2-style byte-level BPE: the ByteLevel pre-tokenizer turns each byte into a printable symbol (space
// becomes 'Ġ', newline 'Ċ'), the BPE model merges symbols by rank and the ByteLevel decoder maps them back to bytes.
// Decoding just concatenates symbols, so any text made of characters in the vocabulary round-trips exactly. A full
// byte-level alphabet needs 256 entries, more than the smallest tiny vocabularies, so the alphabet here is cut to the
// characters prompts use most, in priority order; anything else encodes as <unk>.
//
// Layout (ids 0..vocabSize-1, deterministic): the special tokens, then single characters, then merges. Merges first
// spell out common English words (' the', ' and', ...), then, once those run out, every existing token followed by
// one more character, which never runs out, so any vocabSize can be filled.

/** The special tokens and their ids, in the Llama convention (unk 0, bos 1, eos 2), for the checkpoint's config.json. */
export const TINY_TOKENIZER_SPECIAL_TOKENS = {
  unk: { id: 0, content: '<unk>' },
  bos: { id: 1, content: '<s>' },
  eos: { id: 2, content: '</s>' },
} as const;

const SPECIAL_TOKENS = Object.values(TINY_TOKENIZER_SPECIAL_TOKENS);

const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = LOWERCASE.toUpperCase();
const DIGITS = '0123456789';
const COMMON_PUNCTUATION = ".,!?'-";
const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

/** Characters in the order they earn a vocabulary slot: what lowercase prompts need first, the rest of ASCII last. */
const CHARACTERS_BY_PRIORITY = [
  ...new Set(' ' + LOWERCASE + DIGITS + COMMON_PUNCTUATION + '\n' + UPPERCASE + PRINTABLE_ASCII),
];

/** The smallest vocabulary that still round-trips lowercase words separated by spaces. */
export const TINY_TOKENIZER_MIN_VOCAB = SPECIAL_TOKENS.length + 1 + LOWERCASE.length;

/** Words that get whole-word tokens (with their leading space) before the generic filler merges start. */
const COMMON_WORDS = (
  'the and of to in is that it was for on with as he be at by this had not are but from or have an they which one ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about ' +
  'into than them can only other new some could time these two may then do first any my now such like our over ' +
  'man me even most made after also did many before must through back years where much your way well down should ' +
  'because each just those people how too little state good very make world still own see men work long get here ' +
  'between both life being under never day same another know while last might us great old year off come since ' +
  'against go came right used take three hello'
).split(' ');

/**
 * The byte-level symbol of an ASCII character: GPT-2's bytes_to_unicode keeps printable ASCII ('!'..'~') as is and
 * moves the bytes before it (0..32) to U+0100 + byte, in order, so space is 'Ġ' (U+0120) and newline 'Ċ' (U+010A).
 */
function byteLevelSymbol(char: string): string {
  const code = char.charCodeAt(0);
  if (code >= 0x21 && code <= 0x7e) return char;
  if (code <= 0x20) return String.fromCharCode(0x100 + code);
  throw new Error(`byteLevelSymbol: ${JSON.stringify(char)} is not an ASCII character below DEL`);
}

/** Vocabulary and merges (in rank order) of the BPE model, grown until the vocabulary holds `vocabSize` entries. */
function buildBpeVocabulary(vocabSize: number): { vocab: Record<string, number>; merges: string[] } {
  const tokens: string[] = SPECIAL_TOKENS.map((t) => t.content);
  const known = new Set(tokens);
  const merges: string[] = [];
  const addToken = (token: string): void => {
    tokens.push(token);
    known.add(token);
  };
  // A merge is only valid when both halves are already tokens; callers guarantee that.
  const addMerge = (left: string, right: string): void => {
    if (tokens.length >= vocabSize || known.has(left + right)) return;
    merges.push(`${left} ${right}`);
    addToken(left + right);
  };

  const alphabet = CHARACTERS_BY_PRIORITY.map(byteLevelSymbol);
  for (const symbol of alphabet) if (tokens.length < vocabSize) addToken(symbol);

  // Words are built left to right (' t', ' th', ' the'), so each merge's halves exist when it is added.
  for (const word of COMMON_WORDS) {
    let prefix = byteLevelSymbol(' ');
    for (const char of word) {
      addMerge(prefix, char);
      prefix += char;
    }
  }
  // Filler: extend each token, in id order, by each character. The token list grows as this runs, so it never ends
  // before the vocabulary is full.
  for (let i = SPECIAL_TOKENS.length; tokens.length < vocabSize; i++) {
    for (const symbol of alphabet) addMerge(tokens[i]!, symbol);
  }

  return { vocab: Object.fromEntries(tokens.map((token, id) => [token, id])), merges };
}

/** The same settings GPT-2's tokenizer.json uses for its ByteLevel pre-tokenizer, post-processor and decoder. */
const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true } as const;

/**
 * A valid Hugging Face tokenizer.json (as a JSON-ready object) whose vocabulary has exactly `vocabSize` entries,
 * ids 0..vocabSize-1. The same vocabSize always gives the same file.
 */
export function tinyTokenizerJson(vocabSize: number): object {
  if (!Number.isInteger(vocabSize) || vocabSize < TINY_TOKENIZER_MIN_VOCAB)
    throw new RangeError(
      `tinyTokenizerJson: vocabSize must be an integer >= ${TINY_TOKENIZER_MIN_VOCAB} ` +
        `(special tokens, space and a-z), got ${vocabSize}`,
    );
  const { vocab, merges } = buildBpeVocabulary(vocabSize);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(({ id, content }) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: BYTE_LEVEL,
    post_processor: BYTE_LEVEL,
    decoder: BYTE_LEVEL,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: TINY_TOKENIZER_SPECIAL_TOKENS.unk.content,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // "left right" strings rather than [left, right] pairs: every tokenizers version reads them, and byte-level
      // symbols never contain a space.
      merges,
    },
  };
}
