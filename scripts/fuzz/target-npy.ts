// npy target: compiler/io/npy.ts readNpy, as `kiln run --input x=a.npy` calls it. Cases are .npy files numpy
// would write (every dtype kiln reads, and some it refuses), with header dicts whose descr, fortran_order and
// shape are swapped for edge-case spellings, header lengths that lie, then byte-level damage.
import { readNpy } from '../../compiler/io/npy.js';
import { mutateBytes, mutateText } from './mutate.js';
import { npyFile } from './npy-file.js';
import type { Rng } from './rng.js';
import { type FuzzTarget, utf8 } from './targets.js';

const DESCRS = ['<f4', '<f8', '<f2', '<i4', '<u4', '<i8', '<u8', '<i2', '<u2', '|i1', '|u1', '|b1', '>f4', '<c8', '|S3', 'O', '<f4 ', "'<f4'", '', 'toString', '__proto__'];
const SHAPES = ['()', '(3,)', '(2, 3)', '(0,)', '(0, 99999999999999999999)', '(99999999999999999999,)', '(-1,)', '(1e3,)', '( , )', '(,)', '(3,4', '(2,,3)', '(4294967296, 0)', '(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)', '(0x10,)', '(3.0,)'];
const TOKENS = ["'descr'", "'shape'", "'fortran_order'", 'True', 'False', ':', ',', '(', ')', '{', '}', "'"];
const BYTES: Record<string, number> = { '<f4': 4, '<f8': 8, '<f2': 2, '<i4': 4, '<u4': 4, '<i8': 8, '<u8': 8, '<i2': 2, '<u2': 2, '|i1': 1, '|u1': 1, '|b1': 1 };

function validFile(rng: Rng): Uint8Array {
  const descr = rng.pick(DESCRS.slice(0, 12));
  const shape = Array.from({ length: rng.int(4) }, () => rng.int(5));
  const count = shape.reduce((a, b) => a * b, 1);
  const data = Uint8Array.from({ length: count * BYTES[descr]! }, () => rng.int(256));
  return npyFile(descr, shape, data, rng.range(1, 3));
}

/** A header dict assembled from edge-case parts (some keys missing, repeated or reordered). */
function oddHeader(rng: Rng): Uint8Array {
  const parts = [`'descr': '${rng.pick(DESCRS)}'`, `'fortran_order': ${rng.pick(['False', 'True', 'false', '0'])}`, `'shape': ${rng.pick(SHAPES)}`];
  const kept = parts.filter(() => rng.chance(0.9));
  if (rng.chance(0.3)) kept.push(rng.pick(parts));
  if (rng.chance(0.3)) kept.reverse();
  const header = `{${kept.join(', ')}, }`;
  const data = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
  return npyFile('<f4', [], data, rng.range(0, 4), rng.chance(0.3) ? mutateText(rng, header, TOKENS) : header);
}

/** A valid file whose header-length field is rewritten (short, long, past the end). */
function lyingLength(rng: Rng): Uint8Array {
  const bytes = validFile(rng);
  const view = new DataView(bytes.buffer);
  const value = rng.pick([0, 1, bytes.length - 10, bytes.length, 0xffff, rng.int(bytes.length)]);
  if (bytes[6] === 1) view.setUint16(8, value & 0xffff, true);
  else view.setUint32(8, value >>> 0, true);
  return bytes;
}

export function npyTarget(): FuzzTarget {
  return {
    corpus: 'generated .npy files (versions 1-3, every dtype), odd header dicts, lying lengths',
    generate(rng) {
      const kind = rng.int(4);
      const bytes = kind === 0 ? validFile(rng) : kind === 1 ? oddHeader(rng) : kind === 2 ? lyingLength(rng) : utf8('');
      const base = kind === 3 ? validFile(rng) : bytes;
      return kind === 3 || rng.chance(0.3) ? mutateBytes(rng, base) : base;
    },
    exercise(input) {
      const a = readNpy(input, 'fuzz.npy');
      // What an accepted file promises its caller (kiln run compares the shape, then uploads the data).
      if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`unsound result: shape [${a.shape.join(',')}]`);
      if (a.data.length !== a.shape.reduce((x, y) => x * y, 1)) throw new Error(`unsound result: ${a.data.length} values for shape [${a.shape.join(',')}]`);
    },
  };
}
