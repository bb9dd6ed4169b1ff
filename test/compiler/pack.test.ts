// compiler/pack.ts: decode(encode(t)) == t for every dtype, and the byte layouts kernels rely on, checked against
// hand-computed words (sub-byte lanes from the least significant bit, floor(32/bits) lanes per word).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bf16Bits, decodeTensor, encodeTensor, f16Bits, f16FromBits } from '../../compiler/pack.js';
import { ALL_DTYPES, type DType, intRange, isInt, makeTensor, roundF16, storageBytes, tensorsIdentical } from '../../ir/index.js';

const words = (bytes: Uint8Array): number[] => [...new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];

function arbValue(dt: DType): fc.Arbitrary<number> {
  if (dt === 'bool') return fc.integer({ min: 0, max: 1 });
  if (isInt(dt)) {
    const [lo, hi] = intRange(dt);
    return fc.integer({ min: Math.max(lo, -(2 ** 40)), max: Math.min(hi, 2 ** 40) });
  }
  return fc.oneof(fc.double(), fc.constantFrom(0, -0, Infinity, -Infinity, 65504, 1e-7));
}

describe('pack', () => {
  it.each(ALL_DTYPES)('round-trips %s', (dt) => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) =>
          fc.tuple(fc.constant(shape), fc.array(arbValue(dt), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })),
        ),
        ([shape, values]) => {
          const t = makeTensor(dt, shape, values);
          const bytes = encodeTensor(t);
          expect(bytes.byteLength).toBe(storageBytes(dt, t.data.length));
          expect(tensorsIdentical(decodeTensor(dt, shape, bytes), t)).toBe(true);
          const padded = encodeTensor(t, { align4: true });
          expect(padded.byteLength % 4).toBe(0);
          expect(tensorsIdentical(decodeTensor(dt, shape, padded), t)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('packs sub-byte lanes from the least significant bit', () => {
    // i3: 10 lanes per word, top 2 bits unused; -1 is 0b111.
    const i3 = encodeTensor(makeTensor('i3', [11], [-4, -3, -2, -1, 0, 1, 2, 3, -1, 1, -1]), { align4: true });
    const lanes = [4, 5, 6, 7, 0, 1, 2, 3, 7, 1];
    expect(words(i3)).toEqual([lanes.reduce((w, v, i) => w + v * 2 ** (3 * i), 0), 7]);
    // i4: 8 lanes; u1: 32 lanes.
    expect(words(encodeTensor(makeTensor('i4', [8], [1, -1, 0, 0, 0, 0, 0, -8])))).toEqual([0x800000f1]);
    expect(words(encodeTensor(makeTensor('u1', [33], (i) => (i === 0 || i === 31 || i === 32 ? 1 : 0))))).toEqual([0x80000001, 1]);
  });

  it('writes f16, bf16 and bool as the kernels read them', () => {
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(-2)).toBe(0xc000);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(65520)).toBe(0x7c00);
    expect(f16Bits(2 ** -24)).toBe(1);
    expect(f16Bits(NaN)).toBe(0x7e00);
    expect(bf16Bits(1)).toBe(0x3f80);
    expect(bf16Bits(-0)).toBe(0x8000);
    expect(words(encodeTensor(makeTensor('f16', [2], [1, -2])))).toEqual([0xc0003c00]);
    expect(words(encodeTensor(makeTensor('bool', [3], [1, 0, 5])))).toEqual([1, 0, 1]);
  });

  it('decodes every f16 bit pattern to the value roundF16 keeps', () => {
    const bad: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = f16FromBits(h);
      if (!Number.isNaN(v) && (roundF16(v) !== v || f16Bits(v) !== h)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});
