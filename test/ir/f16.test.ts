// The one f16/bf16 encoder (runtime/f16.ts) against an exact reference written here with BigInt arithmetic
// (no Float32Array, no Math.round), through every public entry that turns doubles into 16-bit floats: the core
// functions, ir's roundToDType, the runtime codec's encode, tensor packing (compiler/pack.ts), weight packing
// (compiler/memory/weight-chunks.ts, inline and external constants) and Tiled-CSL's f16 entries. Rounding is
// once, to nearest, ties to even, straight from the double.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { constantChunks } from '../../compiler/memory/weight-chunks.js';
import * as pack from '../../compiler/pack.js';
import { decodeTiledCsl, encodeTiledCsl, f16BitsOf, makeTensor, roundToDType, tensorType } from '../../ir/index.js';
import * as core from '../../runtime/f16.js';
import { bf16ToNumber, halfToNumber } from '../../ir/import/onnx/tensor-proto.js';
import * as codec from '../../runtime/codec.js';

interface Format {
  readonly name: 'f16' | 'bf16';
  readonly mant: number;
  readonly bias: number;
  readonly nan: number;
  /** Bits of the largest finite value. */
  readonly maxFinite: number;
}
const F16: Format = { name: 'f16', mant: 10, bias: 15, nan: 0x7e00, maxFinite: 0x7bff };
const BF16: Format = { name: 'bf16', mant: 7, bias: 127, nan: 0x7fc0, maxFinite: 0x7f7f };

const dv = new DataView(new ArrayBuffer(8));
const bitsOfDouble = (x: number): bigint => (dv.setFloat64(0, x), dv.getBigUint64(0));
const doubleOfBits = (b: bigint): number => (dv.setBigUint64(0, b), dv.getFloat64(0));
const bitLength = (n: bigint): number => n.toString(2).length;

/** Reference encoder: x = M * 2^E exactly, rounded to the nearest multiple of the format's quantum at x. */
function refBits(x: number, f: Format): number {
  const b = bitsOfDouble(x);
  const sign = b >> 63n ? 0x8000 : 0;
  const bexp = Number((b >> 52n) & 0x7ffn);
  const frac = b & ((1n << 52n) - 1n);
  const inf = (2 * f.bias + 1) << f.mant;
  if (bexp === 0x7ff) return frac ? f.nan : sign | inf;
  const M = bexp === 0 ? frac : frac | (1n << 52n);
  const E = (bexp === 0 ? 1 : bexp) - 1075;
  if (M === 0n) return sign;
  const top = bitLength(M) - 1 + E; // floor(log2 |x|)
  let q = Math.max(top, 1 - f.bias) - f.mant; // the quantum at x is 2^q (subnormals share the smallest)
  const shift = q - E;
  let n: bigint;
  if (shift <= 0) n = M << BigInt(-shift);
  else {
    n = M >> BigInt(shift);
    const rem = M - (n << BigInt(shift));
    const half = 1n << BigInt(shift - 1);
    if (rem > half || (rem === half && (n & 1n) === 1n)) n += 1n;
  }
  const one = 1n << BigInt(f.mant);
  if (n === one << 1n) {
    n >>= 1n;
    q += 1;
  }
  if (n < one) return sign | Number(n); // subnormal (or zero)
  const biased = q + f.mant + f.bias;
  if (biased >= 2 * f.bias + 1) return sign | inf;
  return sign | (biased << f.mant) | Number(n - one);
}

/** Reference decoder: the double whose bit pattern carries the same sign, exponent and mantissa. */
function refValue(h: number, f: Format): number {
  const sign = BigInt(h >> 15) << 63n;
  const e = (h >> f.mant) & (2 * f.bias + 1);
  const m = BigInt(h & ((1 << f.mant) - 1));
  if (e === 2 * f.bias + 1) return m ? NaN : doubleOfBits(sign | (0x7ffn << 52n));
  if (e === 0 && m === 0n) return doubleOfBits(sign);
  if (e > 0) return doubleOfBits(sign | (BigInt(e - f.bias + 1023) << 52n) | (m << BigInt(52 - f.mant)));
  const p = bitLength(m) - 1; // subnormal: m * 2^(1 - bias - mant), renormalised
  return doubleOfBits(sign | (BigInt(p + 1 - f.bias - f.mant + 1023) << 52n) | ((m - (1n << BigInt(p))) << BigInt(52 - p)));
}

/** The reference rounding of x to the format, as a double. */
const refRound = (x: number, f: Format): number => (Number.isNaN(x) ? NaN : refValue(refBits(x, f), f));

/**
 * Doubles sitting on, just above or just below the midpoint between two neighbouring values of the format
 * (rounding twice goes wrong here), weighted towards the subnormal range, the normal boundary and the top
 * (65504 | 65520 for f16): a few double ulps off, or off by a relative 2^-11 .. 2^-60.
 */
function arbNearMidpoint(f: Format): fc.Arbitrary<number> {
  const minNormal = 1 << f.mant;
  const bits = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: f.maxFinite }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * minNormal }) },
    { weight: 1, arbitrary: fc.integer({ min: f.maxFinite - 3, max: f.maxFinite }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1, minNormal - 1, minNormal, f.maxFinite) },
  );
  const offset = fc.oneof(
    fc.constant({ ulps: 0, rel: 0 }),
    fc.integer({ min: -4, max: 4 }).map((ulps) => ({ ulps, rel: 0 })),
    fc.tuple(fc.integer({ min: 11, max: 60 }), fc.boolean()).map(([j, up]) => ({ ulps: 0, rel: (up ? 1 : -1) * 2 ** -j })),
  );
  return fc.tuple(bits, offset, fc.boolean()).map(([h, { ulps, rel }, negative]) => {
    const e = Math.max(h >> f.mant, 1);
    const mid = refValue(h, f) + 2 ** (e - f.bias - f.mant - 1); // half a quantum above value(h), exact
    let v = doubleOfBits(bitsOfDouble(mid) + BigInt(ulps)); // mid > 0, so stepping the bits steps the value
    v += v * rel;
    return negative ? -v : v;
  });
}

function arbDouble(f: Format): fc.Arbitrary<number> {
  const minNormal = 2 ** (1 - f.bias);
  return fc.oneof(
    { weight: 3, arbitrary: fc.double() }, // NaN, ±0, ±inf, ±MAX_VALUE, ±MIN_VALUE and friends included
    { weight: 1, arbitrary: fc.float().map(Number) },
    { weight: 1, arbitrary: fc.double({ min: -2 * minNormal, max: 2 * minNormal }) },
    { weight: 1, arbitrary: fc.double({ min: -70000, max: 70000 }) },
    { weight: 1, arbitrary: fc.double({ min: 65000, max: 66000 }) },
    { weight: 6, arbitrary: arbNearMidpoint(f) },
  );
}

const RUNS = { numRuns: 20_000 };
const u16 = (bytes: Uint8Array): Uint16Array => new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);

describe('the reference itself', () => {
  it('knows a few values by heart', () => {
    expect(refBits(1, F16)).toBe(0x3c00);
    expect(refBits(65504, F16)).toBe(0x7bff);
    expect(refBits(65520, F16)).toBe(0x7c00);
    expect(refBits(65520 - 2 ** -30, F16)).toBe(0x7bff);
    expect(refBits(2 ** -24, F16)).toBe(1);
    expect(refBits(2 ** -25, F16)).toBe(0);
    expect(refBits(3 * 2 ** -25, F16)).toBe(2);
    expect(refBits(-(2 ** -14), F16)).toBe(0x8400);
    expect(refBits(1, BF16)).toBe(0x3f80);
    expect(refValue(0x7bff, F16)).toBe(65504);
    expect(refValue(0x0001, F16)).toBe(2 ** -24);
    expect(refValue(0x8000, F16)).toBe(-0);
    expect(refValue(0x0001, BF16)).toBe(2 ** -133);
  });
});

describe.each([F16, BF16])('$name encoding', (f) => {
  const encode = f === F16 ? core.f16Bits : core.bf16Bits;
  const decode = f === F16 ? core.f16FromBits : core.bf16FromBits;

  it('rounds once to nearest even, straight from the double (core encoder)', () => {
    fc.assert(
      fc.property(arbDouble(f), (x) => {
        expect(encode(x)).toBe(refBits(x, f));
      }),
      RUNS,
    );
  });

  it('roundToDType is the reference rounding, as a double (±0, ±inf and NaN kept)', () => {
    fc.assert(
      fc.property(arbDouble(f), (x) => {
        expect(Object.is(roundToDType(x, f.name), refRound(x, f))).toBe(true);
      }),
      RUNS,
    );
  });

  it("the runtime codec's encode writes the reference bits", () => {
    fc.assert(
      fc.property(fc.array(arbDouble(f), { minLength: 1, maxLength: 64 }), (xs) => {
        expect([...u16(codec.encode(f.name, xs))].slice(0, xs.length)).toEqual(xs.map((x) => refBits(x, f)));
      }),
      { numRuns: 2000 },
    );
  });

  it('tensor packing (compiler/pack.ts) and inline weight packing write the reference bits', () => {
    fc.assert(
      fc.property(fc.array(arbDouble(f), { minLength: 1, maxLength: 64 }), (xs) => {
        const want = xs.map((x) => refBits(x, f));
        const t = makeTensor(f.name, [xs.length], xs);
        expect([...u16(pack.encodeTensor(t))]).toEqual(want);
        const chunks = [...constantChunks({ name: 'w', type: tensorType(f.name, [xs.length]), value: t })];
        expect(chunks.flatMap((c) => [...u16(c.slice())])).toEqual(want);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes every one of the 65536 bit patterns exactly, and encoding gives the bits back (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = decode(h);
      const want = refValue(h, f);
      if (Number.isNaN(want)) {
        expect(v).toBeNaN();
        expect(encode(v)).toBe(f.nan);
        expect(roundToDType(v, f.name)).toBeNaN();
        continue;
      }
      if (!Object.is(v, want)) expect.fail(`${f.name} bits 0x${h.toString(16)} decode to ${v}, not ${want}`);
      if (encode(v) !== h) expect.fail(`${f.name} 0x${h.toString(16)} -> ${v} encodes to 0x${encode(v).toString(16)}`);
      if (!Object.is(roundToDType(v, f.name), v)) expect.fail(`roundToDType moves the ${f.name} value ${v}`);
    }
  });
});

describe('f16 named cases', () => {
  it('1 + 2^-11 + 2^-40 is above the midpoint: 0x3c01 through every entry', () => {
    const x = 1 + 2 ** -11 + 2 ** -40;
    expect(refBits(x, F16)).toBe(0x3c01);
    expect(core.f16Bits(x)).toBe(0x3c01);
    expect(codec.f16Bits(x)).toBe(0x3c01);
    expect(u16(codec.encode('f16', [x]))[0]).toBe(0x3c01);
    expect(roundToDType(x, 'f16')).toBe(1 + 2 ** -10);
    expect(f16BitsOf(x)).toBe(0x3c01);
  });

  it('ties go to even, the top rounds to inf from 65520, NaN is 0x7e00', () => {
    expect(core.f16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(core.f16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(core.f16Bits(1 + 2 ** -11 - 2 ** -40)).toBe(0x3c00);
    expect(core.f16Bits(65519.99999999999)).toBe(0x7bff);
    expect(core.f16Bits(65520)).toBe(0x7c00);
    expect(core.f16Bits(-65520)).toBe(0xfc00);
    expect(core.f16Bits(2 ** -25)).toBe(0);
    expect(core.f16Bits(-(2 ** -25))).toBe(0x8000);
    expect(core.f16Bits(2 ** -25 + 2 ** -70)).toBe(1);
    expect(core.f16Bits(Number.MIN_VALUE)).toBe(0);
    expect(core.f16Bits(NaN)).toBe(0x7e00);
    expect(core.bf16Bits(NaN)).toBe(0x7fc0);
  });
});

describe('one encoder behind every name', () => {
  it('codec, pack, Tiled-CSL and the importers re-export the core functions', () => {
    expect(codec.f16Bits).toBe(core.f16Bits);
    expect(codec.f16FromBits).toBe(core.f16FromBits);
    expect(codec.bf16Bits).toBe(core.bf16Bits);
    expect(codec.bf16FromBits).toBe(core.bf16FromBits);
    expect(pack.f16Bits).toBe(core.f16Bits);
    expect(pack.bf16Bits).toBe(core.bf16Bits);
    expect(f16BitsOf).toBe(core.f16Bits);
    expect(halfToNumber).toBe(core.f16FromBits);
    expect(bf16ToNumber).toBe(core.bf16FromBits);
  });

  it("Tiled-CSL's f16 entries hold the reference rounding (values that round to zero, and NaN, dropped)", () => {
    fc.assert(
      fc.property(fc.array(arbDouble(F16), { minLength: 16, maxLength: 16 }), (xs) => {
        const got = decodeTiledCsl(encodeTiledCsl(xs, 2, 8, { tileM: 1, tileK: 8, values: 'f16' }));
        expect([...got]).toEqual(xs.map((x) => (Number.isNaN(x) ? 0 : refRound(x, F16) || 0)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('external weights narrowed to f16 as they are packed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-f16-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an F64 checkpoint tensor packed as f16 holds the reference bits', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(arbDouble(F16), { minLength: 1, maxLength: 64 }), (all) => {
        // Finite values that only inf can hold are refused (narrowExternal), so leave those out here.
        const xs = all.filter((x) => !Number.isFinite(x) || Number.isFinite(refRound(x, F16)));
        fc.pre(xs.length > 0); // a draw of only such values is discarded, not passed
        const file = join(dir, `w${run++}.bin`);
        writeFileSync(file, new Uint8Array(Float64Array.from(xs).buffer));
        const external = { file, offset: 0, bytes: xs.length * 8, format: 'F64' as const, name: 'w' };
        const chunks = [...constantChunks({ name: 'w', type: tensorType('f16', [xs.length]), external })];
        expect(chunks.flatMap((c) => [...u16(c.slice())])).toEqual(xs.map((x) => refBits(x, F16)));
      }),
      { numRuns: 300 },
    );
  });
});
