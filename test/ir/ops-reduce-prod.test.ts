// ReduceProd (a row of reduce.ts's table): inference like the other reductions, the ONNX examples, the empty
// product, integer products wrapping modulo 2^bits exactly (a float64 product would drop the low bits), NaN and
// zeros, and the property that the product of positive values is exp of the sum of logs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeTensor, tensorType } from '../../ir/index.js';
import { f32, infer, run } from './op-harness.js';

const values = (t: { data: Float64Array }): number[] => [...t.data];

describe('ReduceProd', () => {
  it('infers like the other reductions and rejects bool', () => {
    expect(infer('ReduceProd', [tensorType('f32', ['n', 3, 4])], { axes: [-1], keepdims: 0 })).toEqual([tensorType('f32', ['n', 3])]);
    expect(infer('ReduceProd', [tensorType('i32', [2, 3])])[0]!.shape).toEqual([1, 1]);
    expect(() => infer('ReduceProd', [tensorType('bool', [2])])).toThrow('ReduceProd needs a float or int input, got bool');
    expect(() => infer('ReduceProd', [tensorType('f32', [2])], { axes: [1] })).toThrow('ReduceProd: axes 1 is out of range for rank 1');
  });

  it('the ONNX examples: along an axis, keepdims 0/1, all axes', () => {
    const x = f32([3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(values(run('ReduceProd', [x], { axes: [1], keepdims: 0 }))).toEqual([3, 8, 35, 48, 99, 120]);
    expect(run('ReduceProd', [x], { axes: [1] }).shape).toEqual([3, 1, 2]);
    expect(values(run('ReduceProd', [x], { axes: [-2] }))).toEqual([3, 8, 35, 48, 99, 120]);
    expect(values(run('ReduceProd', [x]))).toEqual([Math.fround(479001600)]);
    expect(values(run('ReduceProd', [x], { noop_with_empty_axes: 1 }))).toEqual(values(x));
  });

  it('the empty product is 1; NaN propagates; a zero wins over infinities only as NaN', () => {
    expect(values(run('ReduceProd', [f32([2, 0, 4], [])], { axes: [1], keepdims: 0 }))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(run('ReduceProd', [f32([2, 0, 4], [])], { axes: [2] }).shape).toEqual([2, 0, 1]);
    expect(values(run('ReduceProd', [f32([3], [2, NaN, 0])]))).toEqual([NaN]);
    expect(values(run('ReduceProd', [f32([2], [0, Infinity])]))).toEqual([NaN]);
    expect(values(run('ReduceProd', [f32([2], [-0, 5])]))).toEqual([-0]);
  });

  it('integer products wrap modulo 2^bits, exactly', () => {
    // 3^40 mod 2^32 needs every bit: a float64 product loses them past 2^53.
    const threes = makeTensor('i32', [40], () => 3);
    expect(values(run('ReduceProd', [threes], { keepdims: 0 }))).toEqual([Number(BigInt.asIntN(32, 3n ** 40n))]);
    expect(values(run('ReduceProd', [makeTensor('u32', [3], [4294967295, 3, 7])], { keepdims: 0 }))).toEqual([Number(BigInt.asUintN(32, 4294967295n * 21n))]);
    expect(values(run('ReduceProd', [makeTensor('i8', [3], [100, 3, -1])], { keepdims: 0 }))).toEqual([Number(BigInt.asIntN(8, -300n))]);
  });

  it('the product of positive values is exp(sum(log x))', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 12 }), (xs) => {
        const x = f32([xs.length], xs);
        const p = run('ReduceProd', [x], { keepdims: 0 }).data[0]!;
        const logs = [...x.data].reduce((s, v) => s + Math.log(v), 0);
        expect(Math.abs(p - Math.exp(logs))).toBeLessThanOrEqual(1e-6 * Math.exp(logs));
      }),
      { numRuns: 60 },
    );
  });
});
