// CumSum: attribute checks, the ONNX examples (exclusive, reverse, both, 2-D axes, negative axis, int32),
// integer wrap-around, and properties: the last running sum is ReduceSum, exclusive = inclusive - x. CumProd
// (same op file): its examples, exact integer wrap-around, last product = ReduceProd, exclusive = shifted.
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
import { infer as opInfer, run as opRun } from './op-harness.js';

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

describe('CumProd', () => {
  const prod = (x: Tensor, attrs: Attrs): number[] => values(opRun('CumProd', [x], attrs));

  it('infers and checks like CumSum', () => {
    expect(opInfer('CumProd', [tensorType('f16', ['b', 7])], { axis: -1 })).toEqual([tensorType('f16', ['b', 7])]);
    expect(() => opInfer('CumProd', [tensorType('bool', [3])], { axis: 0 })).toThrow('CumProd needs a float or int input, got bool');
    expect(() => opInfer('CumProd', [tensorType('f32', [2, 3])], { axis: 2 })).toThrow('CumProd: axis 2 is out of range for rank 2');
    expect(() => opInfer('CumProd', [tensorType('f32', [3])], { axis: 0, exclusive: 2 })).toThrow('CumProd: exclusive must be 0 or 1, got 2');
  });

  it('the ONNX examples: inclusive, exclusive (from 1), reverse and both', () => {
    const x = makeTensor('f32', [3], [1, 2, 3]);
    expect(prod(x, { axis: 0 })).toEqual([1, 2, 6]);
    expect(prod(x, { axis: 0, exclusive: 1 })).toEqual([1, 1, 2]);
    expect(prod(x, { axis: 0, reverse: 1 })).toEqual([6, 6, 3]);
    expect(prod(x, { axis: 0, exclusive: 1, reverse: 1 })).toEqual([6, 3, 1]);
    expect(prod(m23, { axis: 0 })).toEqual([1, 2, 3, 4, 10, 18]);
    expect(prod(m23, { axis: -1 })).toEqual([1, 2, 6, 4, 20, 120]);
  });

  it('integer products wrap modulo 2^bits exactly at every length', () => {
    const threes = makeTensor('i32', [40], () => 3);
    const got = prod(threes, { axis: 0 });
    got.forEach((v, k) => expect(v).toBe(Number(BigInt.asIntN(32, 3n ** BigInt(k + 1)))));
    expect(prod(makeTensor('i8', [3], [16, 16, 3]), { axis: 0 })).toEqual([16, 0, 0]);
  });

  it('the last running product equals ReduceProd; exclusive is inclusive shifted by one', () => {
    fc.assert(
      fc.property(arbCase, ({ x, axis, reverse }) => {
        const small = makeTensor('f32', x.shape, (i) => (x.data[i]! % 3) + 0); // products stay exact in f32
        const inclusive = opRun('CumProd', [small], { axis, reverse });
        const exclusive = opRun('CumProd', [small], { axis, reverse, exclusive: 1 });
        const total = opRun('ReduceProd', [small], { axes: [axis], keepdims: 1 });
        const r = axis < 0 ? axis + x.shape.length : axis;
        const len = x.shape[r]!;
        const inner = x.shape.slice(r + 1).reduce((a, b) => a * b, 1);
        for (let i = 0; i < small.data.length; i++) {
          const k = Math.floor(i / inner) % len;
          const outer = Math.floor(i / (inner * len));
          const far = reverse ? k === 0 : k === len - 1;
          if (far) expect(inclusive.data[i]).toBe(total.data[outer * inner + (i % inner)]);
          const prev = reverse ? (k === len - 1 ? undefined : i + inner) : k === 0 ? undefined : i - inner;
          expect(exclusive.data[i]).toBe(prev === undefined ? 1 : inclusive.data[prev]);
        }
      }),
      { numRuns: 100 },
    );
  });
});
