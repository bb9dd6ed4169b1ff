// Format-blind mutations, applied on top of the structure-aware ones: the byte-level damage a truncated download
// or a bad disk does (cuts, flipped and overwritten bytes, lost or repeated spans) and the text-level damage of a
// hand edit (a span deleted, a token or an edge-case number typed in, a line repeated).
import { EDGE_NUMBERS, EDGE_STRINGS, type Rng } from './rng.js';

/** Bytes that are boundaries of common encodings (varint continuation, sign bits, ASCII structure). */
const EDGE_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x22, 0x5b, 0x7b, 0x2c, 0x3a, 0x0a];

function spliced(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

/** One to `max` random byte-level damages. */
export function mutateBytes(rng: Rng, input: Uint8Array, max = 4): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(input);
  for (let n = rng.range(1, max); n > 0; n--) {
    const at = rng.int(bytes.length + 1);
    switch (rng.int(7)) {
      case 0: // cut short (the commonest real damage)
        return bytes.subarray(0, rng.int(bytes.length));
      case 1:
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = rng.int(256);
        break;
      case 2:
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)] = rng.pick(EDGE_BYTES);
        break;
      case 3:
        if (bytes.length) bytes[Math.min(at, bytes.length - 1)]! ^= 1 << rng.int(8);
        break;
      case 4: // a lost span
        bytes = spliced(bytes, at, Math.min(rng.range(1, 64), bytes.length - at), new Uint8Array(0));
        break;
      case 5: // a repeated span
        bytes = spliced(bytes, at, 0, bytes.slice(at, at + rng.range(1, 64)));
        break;
      default: // random bytes typed in
        bytes = spliced(bytes, at, 0, Uint8Array.from({ length: rng.range(1, 8) }, () => rng.int(256)));
    }
  }
  return bytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One to `max` text-level damages; `tokens` are words of the format (keywords, dtype names, op names). */
export function mutateText(rng: Rng, text: string, tokens: readonly string[] = [], max = 3): string {
  let s = text;
  for (let n = rng.range(1, max); n > 0; n--) {
    const at = rng.int(s.length + 1);
    const cut = rng.chance(0.5) ? rng.int(12) : 0;
    switch (rng.int(7)) {
      case 0:
        return s.slice(0, at);
      case 1: {
        // An edge-case number in place of a number of the text.
        const numbers = [...s.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
        const m = numbers.length ? rng.pick(numbers) : undefined;
        if (m) s = s.slice(0, m.index) + String(rng.pick(EDGE_NUMBERS)) + s.slice(m.index + m[0].length);
        break;
      }
      case 2:
        s = s.slice(0, at) + (tokens.length ? rng.pick(tokens) : '') + s.slice(at + cut);
        break;
      case 3:
        s = s.slice(0, at) + rng.pick(EDGE_STRINGS) + s.slice(at + cut);
        break;
      case 4: {
        // A repeated line.
        const lines = s.split('\n');
        const k = rng.int(lines.length);
        lines.splice(k, 0, lines[k]!);
        s = lines.join('\n');
        break;
      }
      case 5:
        s = s.slice(0, at) + rng.pick(['(', ')', '[', ']', '{', '}', ',', ':', '"', "'", '%', '=', '\\']) + s.slice(at + cut);
        break;
      default:
        return decoder.decode(mutateBytes(rng, encoder.encode(s), 2));
    }
  }
  return s;
}
