// ReduceMin (one more row of reduce.ts's table): inference like the other reductions, reference values,
// empty axes and NaN, and its mirror relation to ReduceMax: min(x) = -max(-x).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, GraphBuilder, type Tensor, interpret, makeTensor, tensorType, tensorsIdentical } from '../../ir/index.js';

function run(op: string, x: Tensor, attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const y = b.op(op, [b.input('x', tensorType(x.dtype, x.shape))], attrs);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

const values = (t: Tensor): number[] => [...t.data];
const m23 = makeTensor('f32', [2, 3], [4, -2, 3, 1, 5, -6]);

describe('ReduceMin', () => {
  it('infers like the other reductions and rejects bool', () => {
    const b = new GraphBuilder();
    expect(b.typeOf(b.op('ReduceMin', [b.input('x', tensorType('i8', ['n', 3, 4]))], { axes: [-1], keepdims: 0 }))).toEqual(tensorType('i8', ['n', 3]));
    expect(() => b.op('ReduceMin', [b.input('y', tensorType('bool', [2]))])).toThrow('ReduceMin needs a float or int input, got bool');
    expect(() => b.op('ReduceMin', [b.input('z', tensorType('f32', [2]))], { axes: [1] })).toThrow('ReduceMin: axes 1 is out of range for rank 1');
  });

  it('reduces along axes, all axes by default', () => {
    expect(values(run('ReduceMin', m23, { axes: [1] }))).toEqual([-2, -6]);
    expect(values(run('ReduceMin', m23, { axes: [0], keepdims: 0 }))).toEqual([1, -2, -6]);
    expect(values(run('ReduceMin', m23))).toEqual([-6]);
    expect(values(run('ReduceMin', m23, { noop_with_empty_axes: 1 }))).toEqual(values(m23));
  });

  it('over an empty axis gives +inf (int: the largest value); NaN propagates', () => {
    expect(values(run('ReduceMin', makeTensor('f32', [2, 0], []), { axes: [1] }))).toEqual([Infinity, Infinity]);
    expect(values(run('ReduceMin', makeTensor('u8', [0], []), { keepdims: 0 }))).toEqual([255]);
    expect(values(run('ReduceMin', makeTensor('f32', [3], [1, NaN, 0])))).toEqual([NaN]);
  });

  it('min(x) = -max(-x)', () => {
    const arb = fc
      .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
      .chain((shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc.tuple(fc.array(fc.integer({ min: -99, max: 99 }), { minLength: n, maxLength: n }).map((v) => makeTensor('f32', shape, v)), fc.nat(shape.length - 1));
      });
    fc.assert(
      fc.property(arb, ([x, axis]) => {
        const b = new GraphBuilder();
        const input = b.input('x', tensorType('f32', x.shape));
        const min = b.op('ReduceMin', [input], { axes: [axis] });
        const mirrored = b.op('Neg', [b.op('ReduceMax', [b.op('Neg', [input])], { axes: [axis] })]);
        b.output(min, mirrored);
        const out = interpret(b.build(), { x });
        expect(tensorsIdentical(out[min]!, out[mirrored]!)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
