// BitMatMul's specification on the CPU (papers.md §3.5): the bipolar-INT format's identities, the interpreter's
// sums against a float64 product of the code values, linearity over the activation, and per-group sums adding
// up to the one-group sum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DType, GraphBuilder, type Tensor, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { codeValue, codeValueRange } from '../../ir/ops/bit-matmul.js';

function bitMatMul(a: Tensor, w: Tensor, attrs: Record<string, number>): Tensor {
  const b = new GraphBuilder('g');
  const x = b.input('a', tensorType(a.dtype, a.shape));
  b.output(b.op('BitMatMul', [x, b.constant(w, 'w')], attrs));
  return Object.values(interpret(b.build(), { a }))[0]!;
}

const arb = fc
  .record({
    n: fc.integer({ min: 1, max: 8 }),
    m: fc.integer({ min: 1, max: 8 }),
    rows: fc.integer({ min: 1, max: 3 }),
    outs: fc.integer({ min: 1, max: 4 }),
    k: fc.integer({ min: 1, max: 70 }),
    wb: fc.boolean(),
    ab: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1e6 }),
  })
  .map((o) => {
    const wd = (o.wb || o.n === 1 ? `u${o.n}` : `i${o.n}`) as DType;
    const ad = (o.ab || o.m === 1 ? `u${o.m}` : o.seed % 2 ? `i${o.m}` : `u${o.m}`) as DType;
    let s = o.seed;
    const next = (lo: number, hi: number) => lo + ((s = (s * 1103515245 + 12345) % 2 ** 31) % (hi - lo + 1));
    const range = (d: DType): [number, number] => (d.startsWith('i') ? codeValueRange(d, false) : [0, 2 ** Number(d.slice(1)) - 1]);
    const w = makeTensor(wd, [o.outs, o.k], () => next(...range(wd)));
    const a = makeTensor(ad, [o.rows, o.k], () => next(...range(ad)));
    return { ...o, w, a, wBipolar: o.wb || o.n === 1, aBipolar: o.ab };
  });

describe('BitMatMul specification', () => {
  it('bipolar-INT: odd values, symmetric, no zero; two\'s complement s maps losslessly to 2s + 1 with the MSB flipped', () => {
    for (let n = 1; n <= 8; n++) {
      const values = Array.from({ length: 2 ** n }, (_, u) => codeValue(u, n, true));
      expect(values.every((v) => v % 2 !== 0)).toBe(true);
      expect([...values].sort((x, y) => x - y)).toEqual([...values].map((v) => -v).sort((x, y) => x - y));
      for (let s = -(2 ** (n - 1)); s < 2 ** (n - 1); s++) {
        const u = ((s % 2 ** n) + 2 ** n) % 2 ** n ^ (2 ** (n - 1));
        expect(codeValue(u, n, true)).toBe(2 * s + 1);
      }
    }
  });

  it('equals the float64 product of the code values; linear in the activation; group sums add to the whole', () => {
    fc.assert(
      fc.property(arb, (o) => {
        const attrs = { w_bipolar: o.wBipolar ? 1 : 0, a_bipolar: o.aBipolar ? 1 : 0 };
        const val = (t: Tensor, bip: boolean) => Array.from(t.data, (c) => codeValue(c, Number(t.dtype.slice(1)), bip));
        const [wv, av] = [val(o.w, o.wBipolar), val(o.a, o.aBipolar)];
        const y = bitMatMul(o.a, o.w, attrs);
        for (let r = 0; r < o.rows; r++)
          for (let j = 0; j < o.outs; j++) {
            let s = 0;
            for (let k = 0; k < o.k; k++) s += av[r * o.k + k]! * wv[j * o.k + k]!;
            expect(y.data[r * o.outs + j]).toBe(s);
          }
        // Per-group sums (groups of 7, the last ragged) add up to the one-group sum.
        const grouped = bitMatMul(o.a, o.w, { ...attrs, group: 7 });
        const groups = Math.ceil(o.k / 7);
        for (let i = 0; i < y.data.length; i++) {
          let s = 0;
          for (let g = 0; g < groups; g++) s += grouped.data[i * groups + g]!;
          expect(s).toBe(y.data[i]);
        }
        // Linearity: splitting K's activation into two halves (zeroing the other half, unsigned codes only: a zero
        // code is value 0) gives sums that add to the whole.
        if (!o.aBipolar && o.a.dtype.startsWith('u')) {
          const half = (keep: (k: number) => boolean) => makeTensor(o.a.dtype, o.a.shape, (i) => (keep(i % o.k) ? o.a.data[i]! : 0));
          const [y1, y2] = [bitMatMul(half((k) => k % 2 === 0), o.w, attrs), bitMatMul(half((k) => k % 2 === 1), o.w, attrs)];
          expect(Array.from(y1.data, (v, i) => v + y2.data[i]!)).toEqual(Array.from(y.data));
        }
      }),
      { numRuns: 60 },
    );
  });
});
