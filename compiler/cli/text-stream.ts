// Printing generated text while it is generated. Each new token re-decodes the whole output and prints only what
// was added, because a token's text depends on its neighbours (byte-level BPE splits one character over several
// tokens; decoders drop or merge spaces). Text ending in U+FFFD (an incomplete UTF-8 sequence) or that no longer
// extends what was printed is held back until a later token completes it; what was never shown is printed at the
// end, so the printed text is the decoded text whenever decoding is prefix-stable.

export interface TextStream {
  push(token: number): void;
  /** Prints what is still held back and a newline; returns the full decoded text. */
  end(): string;
}

export function textStream(decode: (ids: readonly number[]) => string, write: (text: string) => void): TextStream {
  const ids: number[] = [];
  let shown = '';
  return {
    push(token) {
      ids.push(token);
      const text = decode(ids);
      if (text.endsWith('\uFFFD') || !text.startsWith(shown)) return;
      write(text.slice(shown.length));
      shown = text;
    },
    end() {
      const text = decode(ids);
      // A decoder that rewrote earlier text: the printed prefix stays, and the whole text follows on its own line.
      write(text.startsWith(shown) ? `${text.slice(shown.length)}\n` : `\n${text}\n`);
      return text;
    },
  };
}
