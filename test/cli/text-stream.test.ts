// compiler/cli/text-stream.ts: streamed chunks add up to the decoded text; a character split over tokens (byte-
// level BPE) is never printed half; a decoder that rewrites earlier text still ends with the full text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { textStream } from '../../compiler/cli/text-stream.js';

/** A byte-level vocabulary: token t is one byte of UTF-8, decoded with replacement characters like GPT-2's. */
const bytesDecode = (ids: readonly number[]): string => new TextDecoder().decode(Uint8Array.from(ids));

describe('textStream', () => {
  it('prints the decoded text exactly once, in chunks that never hold half a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), (s) => {
        const chunks: string[] = [];
        const stream = textStream(bytesDecode, (t) => chunks.push(t));
        for (const b of new TextEncoder().encode(s)) stream.push(b);
        expect(stream.end()).toBe(s);
        expect(chunks.join('')).toBe(`${s}\n`);
        expect(chunks.some((c) => c.includes('\uFFFD'))).toBe(false);
      }),
    );
  });

  it('shows text as soon as it is complete', () => {
    const chunks: string[] = [];
    const stream = textStream(bytesDecode, (t) => chunks.push(t));
    const euro = [...new TextEncoder().encode('€')]; // three bytes
    stream.push(0x61);
    stream.push(euro[0]!);
    stream.push(euro[1]!);
    expect(chunks).toEqual(['a']);
    stream.push(euro[2]!);
    expect(chunks).toEqual(['a', '€']);
  });

  it('ends with the whole text on its own line when the decoder rewrote what was printed', () => {
    // Cleanup that removes the space before punctuation only once the punctuation arrives.
    const words = ['hello', ' ', ','];
    const decode = (ids: readonly number[]): string => ids.map((i) => words[i]).join('').replace(' ,', ',');
    const chunks: string[] = [];
    const stream = textStream(decode, (t) => chunks.push(t));
    for (const t of [0, 1, 2]) stream.push(t);
    expect(stream.end()).toBe('hello,');
    expect(chunks.join('')).toBe('hello \nhello,\n');
  });
});
