// TopK, OneHot and ReverseSequence: the ONNX examples and hand-computed cases (ties to the lower index, NaN above
// every number, smallest first, strided axes; negative, fractional and out-of-range one-hot indices; both axis
// orders of ReverseSequence), their errors and inference.
import { describe, expect, it } from 'vitest';
import { type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { infer, run, runAll } from './op-harness.js';

const f32 = (shape: number[], v: number[]): Tensor => makeTensor('f32', shape, v);
const i32 = (shape: number[], v: number[]): Tensor => makeTensor('i32', shape, v);
const values = (t: Tensor): number[] => [...t.data];
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('TopK', () => {
  const topk = (x: Tensor, attrs: Record<string, number>): [number[], number[]] => {
    const [v, i] = runAll('TopK', [x], attrs);
    return [values(v!), values(i!)];
  };

  it('ONNX examples: largest and smallest along the last axis', () => {
    expect(topk(f32([3, 4], iota(12)), { k: 3 })).toEqual([[3, 2, 1, 7, 6, 5, 11, 10, 9], [3, 2, 1, 3, 2, 1, 3, 2, 1]]);
    const x = f32([3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 11, 10, 9, 8]);
    expect(topk(x, { k: 3, largest: 0 })).toEqual([[0, 1, 2, 4, 5, 6, 8, 9, 10], [0, 1, 2, 0, 1, 2, 3, 2, 1]]);
  });

  it('ties go to the lower index; NaN counts as the largest value', () => {
    expect(topk(f32([2, 4], [0, 0, 0, 0, 2, 1, 2, 1]), { k: 3 })).toEqual([[0, 0, 0, 2, 2, 1], [0, 1, 2, 0, 2, 1]]);
    const nan = f32([5], [NaN, 1, NaN, 5, -Infinity]);
    expect(topk(nan, { k: 3 })).toEqual([[NaN, NaN, 5], [0, 2, 3]]);
    expect(topk(nan, { k: 4, largest: 0 })).toEqual([[-Infinity, 1, 5, NaN], [4, 1, 3, 0]]);
  });

  it('along a strided axis, and k = 0', () => {
    expect(topk(f32([3, 2], [1, 6, 5, 2, 3, 4]), { k: 2, axis: 0 })).toEqual([[5, 6, 3, 4], [1, 0, 2, 2]]);
    const [v] = runAll('TopK', [f32([2, 3], iota(6))], { k: 0 });
    expect(v!.shape).toEqual([2, 0]);
  });

  it('infers both outputs and names bad k, axis and dtype', () => {
    expect(infer('TopK', [tensorType('f16', ['b', 10])], { k: 4 })).toEqual([tensorType('f16', ['b', 4]), tensorType('i32', ['b', 4])]);
    expect(() => infer('TopK', [tensorType('f32', [2, 3])], { k: 4 })).toThrow('TopK: k = 4 is outside 0..3, the elements along axis 1');
    expect(() => infer('TopK', [tensorType('f32', [2, 3])], { k: 1, axis: 2 })).toThrow('TopK: axis 2 is out of range for rank 2');
    expect(() => infer('TopK', [tensorType('bool', [3])], { k: 1 })).toThrow('TopK needs a float or int input, got bool');
    expect(() => infer('TopK', [tensorType('f32', ['n'])], { k: 1 })).toThrow('TopK needs static shape');
  });
});

describe('OneHot', () => {
  const onOff = i32([2], [1, 3]);

  it('ONNX examples: negative indices count from the end (opset 11), out of range is all off', () => {
    const neg = run('OneHot', [i32([3], [0, -7, -8]), onOff], { depth: 10, axis: 1 });
    expect(neg.shape).toEqual([3, 10]);
    expect(values(neg)).toEqual([3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1]);
    expect(values(run('OneHot', [i32([3], [5, -6, -1]), onOff], { depth: 5 }))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]);
  });

  it('opset 9 negatives select nothing; fractions truncate; the new axis can come first', () => {
    expect(values(run('OneHot', [i32([2], [-1, 1]), onOff], { depth: 2, negative: 0 }))).toEqual([1, 1, 1, 3]);
    const byAxis0 = run('OneHot', [f32([2], [1.7, -1.2]), f32([2], [0, 1])], { depth: 3, axis: 0 });
    expect(byAxis0.shape).toEqual([3, 2]);
    expect(values(byAxis0)).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('checks values, depth and axis', () => {
    expect(infer('OneHot', [tensorType('i32', [2, 'n']), tensorType('f16', [2])], { depth: 4, axis: -2 })).toEqual([tensorType('f16', [2, 4, 'n'])]);
    expect(() => infer('OneHot', [tensorType('i32', [2]), tensorType('f32', [3])], { depth: 4 })).toThrow('values must be [off_value, on_value]');
    expect(() => infer('OneHot', [tensorType('i32', [2]), tensorType('f32', [2])], { depth: 0 })).toThrow('depth must be at least 1, got 0');
    expect(() => infer('OneHot', [tensorType('i32', [2]), tensorType('f32', [2])], { depth: 2, axis: 2 })).toThrow('OneHot: axis 2 is out of range for rank 2');
  });
});

describe('ReverseSequence', () => {
  it('ONNX examples: batch-major and time-major', () => {
    const batch = run('ReverseSequence', [f32([4, 4], iota(16)), i32([4], [1, 2, 3, 4])], { batch_axis: 0, time_axis: 1 });
    expect(values(batch)).toEqual([0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12]);
    const x = f32([4, 4], [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15]);
    const time = run('ReverseSequence', [x, i32([4], [4, 3, 2, 1])], {});
    expect(values(time)).toEqual([3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15]);
  });

  it('trailing axes move with their time step; length 0 keeps the sequence', () => {
    const out = run('ReverseSequence', [f32([2, 3, 2], iota(12)), i32([2], [3, 0])], { batch_axis: 0, time_axis: 1 });
    expect(values(out)).toEqual([4, 5, 2, 3, 0, 1, 6, 7, 8, 9, 10, 11]);
  });

  it('names a length past the time axis and bad axes', () => {
    expect(() => run('ReverseSequence', [f32([2, 2], [1, 2, 3, 4]), i32([2], [1, 3])], { batch_axis: 0, time_axis: 1 })).toThrow(
      'ReverseSequence: sequence_lens[1] = 3 is outside 0..2 (the time axis)',
    );
    expect(() => infer('ReverseSequence', [tensorType('f32', [2, 2]), tensorType('i32', [2])], { batch_axis: 1, time_axis: 1 })).toThrow(
      'batch_axis and time_axis must be 0 and 1 in some order',
    );
    expect(() => infer('ReverseSequence', [tensorType('f32', [2, 3]), tensorType('i32', [2])], {})).toThrow('sequence_lens needs one length per batch entry (2 vs 3)');
  });
});
