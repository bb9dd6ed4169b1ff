// Floor, Ceil and Round (elementwise-table rows): float-only inference, ONNX's examples, ties to even for
// Round, special values passing through, and properties tying the three together.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DType, GraphBuilder, type Tensor, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { roundHalfEven } from '../../ir/ops/elementwise-table.js';

function run(op: string, x: Tensor): Tensor {
  const b = new GraphBuilder();
  const y = b.op(op, [b.input('x', tensorType(x.dtype, x.shape))]);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

const f32 = (v: number[]): Tensor => makeTensor('f32', [v.length], v);
const values = (t: Tensor): number[] => [...t.data];

describe('Floor, Ceil, Round', () => {
  it('take float inputs only and keep dtype and shape', () => {
    for (const op of ['Floor', 'Ceil', 'Round']) {
      const b = new GraphBuilder();
      for (const dt of ['f32', 'f16', 'bf16'] as DType[]) expect(b.typeOf(b.op(op, [b.input(`x${dt}`, tensorType(dt, ['n', 3]))]))).toEqual(tensorType(dt, ['n', 3]));
      expect(() => b.op(op, [b.input('i', tensorType('i32', [2]))])).toThrow(`${op} needs a float input, got i32`);
    }
  });

  it('ONNX examples', () => {
    expect(values(run('Floor', f32([-1.5, 1.2, 2])))).toEqual([-2, 1, 2]);
    expect(values(run('Ceil', f32([-1.5, 1.2])))).toEqual([-1, 2]);
    const x = [0.1, 0.5, 0.9, 1.2, 1.5, 1.8, 2.3, 2.5, 2.7, -1.1, -1.5, -1.9, -2.2, -2.5, -2.8];
    expect(values(run('Round', f32(x)))).toEqual([0, 0, 1, 1, 2, 2, 2, 2, 3, -1, -2, -2, -2, -2, -3]);
  });

  it('pass NaN, infinities and signed zeros through', () => {
    for (const op of ['Floor', 'Ceil', 'Round']) {
      const y = values(run(op, f32([NaN, Infinity, -Infinity, -0, 0])));
      expect(y).toEqual([NaN, Infinity, -Infinity, -0, 0]);
    }
    expect(Object.is(run('Round', f32([-0.5])).data[0], -0)).toBe(true);
    expect(Object.is(run('Ceil', f32([-0.5])).data[0], -0)).toBe(true);
  });

  it('round f16 values, whose ties are exact', () => {
    expect(values(run('Round', makeTensor('f16', [4], [0.5, 1.5, 2.5, 1024.5])))).toEqual([0, 2, 2, 1024]);
  });

  it('roundHalfEven: ties go to the even neighbour, everything else to the nearest', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, f) => {
        const r = roundHalfEven(n + f);
        if (f === 0.5) expect(r % 2 === 0).toBe(true);
        // == not Object.is: rounding -0.49 gives -0, which is the right sign and equals the integer 0.
        else expect(r === (f < 0.5 ? n : n + 1)).toBe(true);
      }),
    );
  });

  it('Floor <= Round <= Ceil, Ceil - Floor is 0 or 1, Round is Floor or Ceil', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }), (v) => {
        const x = f32(v);
        const [fl, ce, ro] = ['Floor', 'Ceil', 'Round'].map((op) => values(run(op, x)));
        v.forEach((_, i) => {
          expect(fl![i]! <= ro![i]! && ro![i]! <= ce![i]!).toBe(true);
          expect([0, 1]).toContain(ce![i]! - fl![i]!);
          expect([fl![i], ce![i]]).toContain(ro![i]);
        });
      }),
      { numRuns: 60 },
    );
  });
});
