// f16BitsOf, the f16 packing behind Tiled-CSL's 'f16' values: it must round exactly as the interpreter's
// roundF16 does (once, to nearest even, from the double), and agree with the runtime's f16Bits on f32 inputs,
// where rounding via f32 cannot go wrong.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f16BitsOf, roundF16 } from '../../ir/index.js';
import { halfToNumber } from '../../ir/import/onnx/tensor-proto.js';
import { f16Bits } from '../../runtime/codec.js';

/** Doubles near the midpoint between two neighbouring f16 values, where rounding twice goes wrong. */
const arbNearF16Midpoint = fc
  .tuple(fc.integer({ min: 0, max: 0x7bfe }), fc.integer({ min: -3, max: 3 }), fc.boolean())
  .map(([bits, nudge, negative]) => {
    const mid = (halfToNumber(bits) + halfToNumber(bits + 1)) / 2;
    // A nudge far below an f32 ulp of the midpoint, so Math.fround lands on the midpoint itself.
    const v = mid + nudge * mid * 2 ** -40;
    return negative ? -v : v;
  });

const arbDouble = fc.oneof(
  fc.double(),
  fc.double({ min: -70000, max: 70000 }),
  fc.double({ min: -(2 ** -13), max: 2 ** -13 }),
  arbNearF16Midpoint,
);

describe('f16BitsOf', () => {
  it('rounds like roundF16: the bits hold exactly roundF16(x), sign of zero included', () => {
    fc.assert(
      fc.property(arbDouble, (x) => {
        const bits = f16BitsOf(x);
        expect(bits).toBeGreaterThanOrEqual(0);
        expect(bits).toBeLessThanOrEqual(0xffff);
        if (Number.isNaN(x)) expect(bits).toBe(0x7e00);
        else expect(halfToNumber(bits)).toBe(roundF16(x));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the runtime codec on f32 values', () => {
    fc.assert(
      fc.property(fc.float(), (x) => {
        expect(f16BitsOf(x)).toBe(f16Bits(x));
      }),
      { numRuns: 5000 },
    );
  });

  it('rounds once: a double just off an f16 midpoint goes to its side even when f32 rounds onto the midpoint', () => {
    // 1 + 2^-11 is the midpoint between 1 and 1 + 2^-10; ties go to the even 1.
    expect(f16BitsOf(1 + 2 ** -11)).toBe(0x3c00);
    expect(f16BitsOf(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    expect(f16BitsOf(1 + 2 ** -11 - 2 ** -40)).toBe(0x3c00);
    expect(f16BitsOf(-(1 + 3 * 2 ** -11))).toBe(0xbc02);
    // Subnormals: 2^-25 is the tie between 0 and 2^-24.
    expect(f16BitsOf(2 ** -25)).toBe(0);
    expect(f16BitsOf(2 ** -25 + 2 ** -60)).toBe(1);
    expect(f16BitsOf(-(2 ** -24))).toBe(0x8001);
    expect(f16BitsOf(2 ** -14 - 2 ** -30)).toBe(0x0400);
  });

  it('saturates to infinity past 65520 and keeps NaN', () => {
    expect(f16BitsOf(65504)).toBe(0x7bff);
    expect(f16BitsOf(65520 - 2 ** -30)).toBe(0x7bff);
    expect(f16BitsOf(65520)).toBe(0x7c00);
    expect(f16BitsOf(-1e300)).toBe(0xfc00);
    expect(f16BitsOf(Infinity)).toBe(0x7c00);
    expect(f16BitsOf(NaN)).toBe(0x7e00);
    expect(f16BitsOf(-0)).toBe(0x8000);
    expect(f16BitsOf(0)).toBe(0);
  });
});
