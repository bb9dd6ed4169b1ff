// CumSum: attribute checks, the ONNX examples (exclusive, reverse, both, 2-D axes, negative axis, int32),
// integer wrap-around, and properties: the last running sum is ReduceSum, exclusive = inclusive - x.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  type DType,
  GraphBuilder,
  type Shape,
  type Tensor,
  type TensorType,
  interpret,
  makeTensor,
  tensorType,
  tensorsIdentical,
} from '../../ir/index.js';

function run(x: Tensor, attrs: Attrs): Tensor {
  const b = new GraphBuilder();
  const y = b.op('CumSum', [b.input('x', tensorType(x.dtype, x.shape))], attrs);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

function infer(dtype: DType, shape: Shape, attrs: Attrs): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op('CumSum', [b.input('x', tensorType(dtype, shape))], attrs));
}

const values = (t: Tensor): number[] => [...t.data];
const v5 = makeTensor('f32', [5], [1, 2, 3, 4, 5]);
const m23 = makeTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);

describe('CumSum inference', () => {
  it('keeps dtype and shape', () => {
    expect(infer('f16', ['b', 7], { axis: -1 })).toEqual(tensorType('f16', ['b', 7]));
    expect(infer('i8', [3], { axis: 0, exclusive: 1, reverse: 1 })).toEqual(tensorType('i8', [3]));
  });

  it('names what is wrong', () => {
    expect(() => infer('f32', [3], {})).toThrow("CumSum: missing required attribute 'axis' (int)");
    expect(() => infer('f32', [2, 3], { axis: 2 })).toThrow('CumSum: axis 2 is out of range for rank 2 (expected -2..1)');
    expect(() => infer('f32', [], { axis: 0 })).toThrow('CumSum: axis 0 is out of range for rank 0');
    expect(() => infer('bool', [3], { axis: 0 })).toThrow('CumSum needs a float or int input, got bool');
    expect(() => infer('f32', [3], { axis: 0, exclusive: 2 })).toThrow('CumSum: exclusive must be 0 or 1, got 2');
    expect(() => infer('f32', [3], { axis: 0, reverse: -1 })).toThrow('CumSum: reverse must be 0 or 1, got -1');
  });
});

describe('CumSum reference (ONNX examples)', () => {
  it('1-D: inclusive, exclusive, reverse and both', () => {
    expect(values(run(v5, { axis: 0 }))).toEqual([1, 3, 6, 10, 15]);
    expect(values(run(v5, { axis: 0, exclusive: 1 }))).toEqual([0, 1, 3, 6, 10]);
    expect(values(run(v5, { axis: 0, reverse: 1 }))).toEqual([15, 14, 12, 9, 5]);
    expect(values(run(v5, { axis: 0, reverse: 1, exclusive: 1 }))).toEqual([14, 12, 9, 5, 0]);
  });

  it('2-D along either axis, negative axes counting from the end', () => {
    expect(values(run(m23, { axis: 0 }))).toEqual([1, 2, 3, 5, 7, 9]);
    expect(values(run(m23, { axis: 1 }))).toEqual([1, 3, 6, 4, 9, 15]);
    expect(values(run(m23, { axis: -1 }))).toEqual([1, 3, 6, 4, 9, 15]);
    expect(values(run(m23, { axis: -2, reverse: 1 }))).toEqual([5, 7, 9, 4, 5, 6]);
  });

  it('integers: exact, and wrapping like GPU integer adds', () => {
    expect(values(run(makeTensor('i32', [5], [1, 2, 3, 4, 5]), { axis: 0, exclusive: 1 }))).toEqual([0, 1, 3, 6, 10]);
    expect(values(run(makeTensor('i8', [3], [100, 100, -100]), { axis: 0 }))).toEqual([100, -56, 100]);
    expect(values(run(makeTensor('u4', [4], [9, 9, 0, 1]), { axis: 0 }))).toEqual([9, 2, 2, 3]);
  });

  it('an empty axis gives an empty result', () => {
    expect(run(makeTensor('f32', [2, 0], []), { axis: 1 }).shape).toEqual([2, 0]);
  });
});

/** Rank 1..3, dims 1..4, integer data so float sums are exact. */
const arbCase = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.record({
      x: fc.array(fc.integer({ min: -100, max: 100 }), { minLength: n, maxLength: n }).map((v) => makeTensor('f32', shape, v)),
      axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
      reverse: fc.constantFrom(0, 1),
    });
  });

describe('CumSum properties', () => {
  it('the last running sum along the axis equals ReduceSum over it', () => {
    fc.assert(
      fc.property(arbCase, ({ x, axis, reverse }) => {
        const b = new GraphBuilder();
        const input = b.input('x', tensorType('f32', x.shape));
        const sums = b.op('CumSum', [input], { axis, reverse });
        // The running sum is complete at the far end: the last index, or the first when reversed.
        const last = b.op('Slice', [sums], reverse ? { starts: [0], ends: [1], axes: [axis] } : { starts: [-1], ends: [2 ** 31 - 1], axes: [axis] });
        const total = b.op('ReduceSum', [input], { axes: [axis], keepdims: 1 });
        b.output(last, total);
        const out = interpret(b.build(), { x });
        expect(tensorsIdentical(out[last]!, out[total]!)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('exclusive equals inclusive minus the element itself', () => {
    fc.assert(
      fc.property(arbCase, ({ x, axis, reverse }) => {
        const inclusive = run(x, { axis, reverse });
        const exclusive = run(x, { axis, reverse, exclusive: 1 });
        expect(values(exclusive)).toEqual(values(inclusive).map((v, i) => v - x.data[i]! + 0));
      }),
      { numRuns: 100 },
    );
  });
});
