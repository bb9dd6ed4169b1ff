// MaxPool, AveragePool, LpPool and GlobalAveragePool: output shapes (auto_pad, ceil_mode, dilations, symbolic
// dims), error messages, and hand-computed reference values, in particular how padding counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AttrReader,
  type Attrs,
  GraphBuilder,
  type Shape,
  type Tensor,
  type TensorType,
  interpret,
  lookupOp,
  makeTensor,
  tensorType,
  toleranceExcess,
} from '../../ir/index.js';
import { f32, reader } from './op-harness.js';


const poolShape = (op: string, x: Shape, attrs: Attrs = {}): Shape =>
  lookupOp(op)!.infer([tensorType('f32', x)], reader(op, attrs))[0]!.shape;

function run(op: string, x: Tensor, attrs: Attrs = {}): number[] {
  const r = reader(op, attrs);
  const def = lookupOp(op)!;
  const outTypes: TensorType[] = def.infer([tensorType(x.dtype, x.shape)], r);
  const y = def.reference([x], r, outTypes)[0]!;
  expect(y.shape).toEqual(outTypes[0]!.shape);
  return Array.from(y.data);
}


describe('pool inference', () => {
  it('slides the window with strides, pads and dilations', () => {
    expect(poolShape('MaxPool', [1, 3, 4, 4], { kernel_shape: [2, 2], strides: [2, 2] })).toEqual([1, 3, 2, 2]);
    expect(poolShape('MaxPool', [1, 3, 5, 5], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })).toEqual([1, 3, 5, 5]);
    expect(poolShape('MaxPool', [1, 3, 7, 7], { kernel_shape: [3, 3], dilations: [2, 2] })).toEqual([1, 3, 3, 3]);
    expect(poolShape('AveragePool', [2, 1, 6], { kernel_shape: [3], strides: [2] })).toEqual([2, 1, 2]);
  });

  it('rounds up with ceil_mode, but never starts a window in the end padding', () => {
    expect(poolShape('MaxPool', [1, 1, 5, 5], { kernel_shape: [2, 2], strides: [2, 2] })).toEqual([1, 1, 2, 2]);
    expect(poolShape('MaxPool', [1, 1, 5, 5], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })).toEqual([1, 1, 3, 3]);
    // in=5, k=2, s=3, pads 1+1: ceil((5+2-2)/3)+1 = 3, but window 3 would start at 6-1 = 5, past the input.
    expect(poolShape('AveragePool', [1, 1, 5], { kernel_shape: [2], strides: [3], pads: [1, 1], ceil_mode: 1 })).toEqual([1, 1, 2]);
  });

  it('resolves auto_pad, where ceil_mode makes no difference', () => {
    const base = { kernel_shape: [3, 3], strides: [2, 2] };
    expect(poolShape('MaxPool', [1, 1, 5, 6], { ...base, auto_pad: 'SAME_UPPER' })).toEqual([1, 1, 3, 3]);
    expect(poolShape('MaxPool', [1, 1, 5, 6], { ...base, auto_pad: 'SAME_LOWER', ceil_mode: 1 })).toEqual([1, 1, 3, 3]);
    expect(poolShape('AveragePool', [1, 1, 5, 6], { ...base, auto_pad: 'VALID' })).toEqual([1, 1, 2, 2]);
    expect(poolShape('AveragePool', [1, 1, 5, 6], { ...base, auto_pad: 'VALID', ceil_mode: 1 })).toEqual([1, 1, 2, 2]);
  });

  it('allows symbolic batch, channel and spatial dims (symbolic-window.test.ts checks the expressions)', () => {
    expect(poolShape('MaxPool', ['n', 'c', 4, 4], { kernel_shape: [2, 2] })).toEqual(['n', 'c', 3, 3]);
    expect(poolShape('MaxPool', ['n', 3, 'h', 4], { kernel_shape: [2, 2] })).toEqual(['n', 3, 'h-1', 3]);
    expect(poolShape('GlobalAveragePool', ['n', 3, 'h', 'w'])).toEqual(['n', 3, 1, 1]);
  });

  it('names what is wrong', () => {
    const maxPool = lookupOp('MaxPool')!;
    expect(() => maxPool.infer([tensorType('f32', [1, 1, 4, 4])], new AttrReader('MaxPool', maxPool.attrs, {}))).toThrow(
      "MaxPool needs attribute 'kernel_shape'",
    );
    expect(() => poolShape('MaxPool', [1, 1, 4, 4], { kernel_shape: [2] })).toThrow(
      'MaxPool: kernel_shape must have 2 entries >= 1 (one per spatial dim), got [2]',
    );
    expect(() => poolShape('MaxPool', [1, 1, 4, 4], { kernel_shape: [2, 2], storage_order: 2 })).toThrow(
      'MaxPool: storage_order must be 0 or 1, got 2',
    );
    expect(() => poolShape('AveragePool', [1, 1, 4, 4], { kernel_shape: [2, 2], count_include_pad: 3 })).toThrow(
      'AveragePool: count_include_pad must be 0 or 1, got 3',
    );
    expect(() => poolShape('AveragePool', [1, 1, 4, 4], { kernel_shape: [5, 5] })).toThrow('AveragePool: window does not fit');
    expect(() => poolShape('MaxPool', [1, 1, 4, 4], { kernel_shape: [2, 2], auto_pad: 'VALID', pads: [1, 0, 0, 0] })).toThrow(
      'MaxPool: pads [1,0,0,0] cannot be combined with auto_pad=VALID',
    );
    expect(() => poolShape('GlobalAveragePool', [1, 3])).toThrow('GlobalAveragePool: X must be [N, C, ...spatial]');
    expect(() => lookupOp('MaxPool')!.infer([tensorType('i32', [1, 1, 2, 2])], reader('MaxPool', { kernel_shape: [1, 1] }))).toThrow(
      'MaxPool: X must be a float tensor (f32, f16 or bf16), got i32',
    );
  });
});

describe('MaxPool reference', () => {
  it('treats padding as -inf', () => {
    const x = f32([1, 1, 3, 3], (i) => -(i + 1));
    expect(run('MaxPool', x, { kernel_shape: [2, 2], pads: [1, 1, 1, 1] })).toEqual([
      -1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9,
    ]);
  });

  it('takes the max of each strided window per channel', () => {
    const x = f32([1, 2, 2, 4], [1, 5, 2, 0, 3, 4, 8, 7, -1, -2, -3, -4, -5, -6, -7, -8]);
    expect(run('MaxPool', x, { kernel_shape: [2, 2], strides: [2, 2] })).toEqual([5, 8, -1, -3]);
  });

  it('skips by dilation', () => {
    expect(run('MaxPool', f32([1, 1, 5], [1, 5, 2, 4, 3]), { kernel_shape: [2], dilations: [2] })).toEqual([2, 5, 3]);
  });

  it('propagates NaN', () => {
    expect(run('MaxPool', f32([1, 1, 3], [1, NaN, 2]), { kernel_shape: [2] }).map(String)).toEqual(['NaN', 'NaN']);
  });

  it('takes -0 < +0, as ReduceMax and Max do, whatever the order of the taps', () => {
    const y = run('MaxPool', f32([1, 1, 6], [-0, 0, 0, -0, -0, -0]), { kernel_shape: [2], strides: [2] });
    expect(y.map((v) => Object.is(v, -0))).toEqual([false, false, true]);
    expect(y).toEqual([0, 0, -0]);
  });
});

describe('AveragePool reference', () => {
  it('divides by the real cells (count_include_pad=0) or the whole window (1)', () => {
    const x = f32([1, 1, 4], [1, 2, 3, 4]);
    const attrs = { kernel_shape: [3], pads: [1, 1] };
    expect(run('AveragePool', x, attrs)).toEqual([1.5, 2, 3, 3.5]);
    expect(run('AveragePool', x, { ...attrs, count_include_pad: 1 })).toEqual([1, 2, 3, 7 / 3].map(Math.fround));
    const x2 = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const attrs2 = { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1] };
    expect(run('AveragePool', x2, attrs2)).toEqual([1, 2, 3, 4]);
    expect(run('AveragePool', x2, { ...attrs2, count_include_pad: 1 })).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('never counts cells past the end padding that a ceil_mode window reaches', () => {
    const x = f32([1, 1, 5], [1, 2, 3, 4, 5]);
    const attrs = { kernel_shape: [2], strides: [2], ceil_mode: 1, count_include_pad: 1 };
    expect(run('AveragePool', x, attrs)).toEqual([1.5, 3.5, 5]);
    expect(run('AveragePool', x, { ...attrs, pads: [0, 1] })).toEqual([1.5, 3.5, 2.5]);
    expect(run('AveragePool', x, { ...attrs, pads: [0, 1], count_include_pad: 0 })).toEqual([1.5, 3.5, 5]);
  });

  it('over the whole plane equals GlobalAveragePool', () => {
    const dim = (max: number) => fc.integer({ min: 1, max });
    const arb = fc.record({
      shape: fc.tuple(dim(2), dim(3), dim(5), dim(5)),
      seed: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(arb, ({ shape, seed }) => {
        const g = new GraphBuilder();
        const x = g.input('x', tensorType('f32', ['n', shape[1], shape[2], shape[3]]));
        const avg = g.op('AveragePool', [x], { kernel_shape: [shape[2], shape[3]] });
        const global = g.op('GlobalAveragePool', [x]);
        const out = interpret(g.output(avg, global).build(), { x: f32(shape, (i) => Math.sin(i * 7 + seed)) });
        expect(toleranceExcess(out[avg]!, out[global]!, 1e-6, 1e-7)).toBe(0);
      }),
      { numRuns: 50 },
    );
  });
});

describe('GlobalAveragePool reference', () => {
  it('averages each channel plane', () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, -1, -1, 0, 6]);
    expect(run('GlobalAveragePool', x)).toEqual([2.5, 1]);
  });

  it('keeps f16 inputs f16', () => {
    const x = makeTensor('f16', [1, 1, 3], [1, 1, 2]);
    expect(run('GlobalAveragePool', x)).toEqual([makeTensor('f16', [1], [4 / 3]).data[0]]);
  });
});

describe('LpPool', () => {
  it('infers like the other pools and checks p', () => {
    expect(poolShape('LpPool', [1, 3, 5, 5], { kernel_shape: [2, 2], p: 3 })).toEqual([1, 3, 4, 4]);
    expect(poolShape('LpPool', [1, 3, 5, 5], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })).toEqual([1, 3, 3, 3]);
    expect(poolShape('LpPool', [1, 1, 7], { kernel_shape: [3], dilations: [2], auto_pad: 'SAME_UPPER' })).toEqual([1, 1, 7]);
    expect(() => poolShape('LpPool', [1, 1, 4], { kernel_shape: [2], p: 0 })).toThrow('LpPool: p must be a positive number, got 0');
    expect(() => poolShape('LpPool', [1, 1, 4], { kernel_shape: [2], p: -1 })).toThrow('LpPool: p must be a positive number, got -1');
  });

  it('is (sum |x|^p)^(1/p) over each window, p = 2 by default', () => {
    const x = f32([1, 1, 4], [3, -4, 0, 1]);
    expect(run('LpPool', x, { kernel_shape: [2] })).toEqual([5, 4, 1]);
    expect(run('LpPool', x, { kernel_shape: [2], p: 1 })).toEqual([7, 4, 1]);
    expect(run('LpPool', x, { kernel_shape: [3], p: 3 })).toEqual([Math.fround(91 ** (1 / 3)), Math.fround(65 ** (1 / 3))]);
  });

  it('padding and cells past it add nothing (ceil_mode windows, dilations)', () => {
    const x = f32([1, 1, 5], [1, -2, 2, 4, -3]);
    expect(run('LpPool', x, { kernel_shape: [2], pads: [1, 1] })).toEqual([1, 5, 8, 20, 25, 9].map((s) => Math.fround(Math.sqrt(s))));
    expect(run('LpPool', x, { kernel_shape: [2], strides: [2], ceil_mode: 1, p: 1 })).toEqual([3, 6, 3]);
    expect(run('LpPool', x, { kernel_shape: [2], dilations: [2], p: 1 })).toEqual([3, 6, 5]);
  });

  it('with p = 1 over non-negative data equals AveragePool times the window size', () => {
    const x = f32([2, 3, 4, 5], (i) => Math.abs(Math.sin(i)));
    const lp = run('LpPool', x, { kernel_shape: [2, 3], p: 1 });
    const avg = run('AveragePool', x, { kernel_shape: [2, 3] });
    lp.forEach((v, i) => expect(Math.abs(v - 6 * avg[i]!)).toBeLessThan(1e-5));
  });
});
