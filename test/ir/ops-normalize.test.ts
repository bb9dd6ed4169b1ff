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
} from '../../ir/index.js';
import { softmax64 } from '../../ir/ops/normalize.js';

/** Build a one-node graph through GraphBuilder and evaluate it; '' in `inputs` is an omitted optional input. */
function run(op: string, inputs: readonly (Tensor | '')[], attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const bound: Record<string, Tensor> = {};
  const names = inputs.map((x, i) => {
    if (x === '') return '';
    bound[`x${i}`] = x;
    return b.input(`x${i}`, tensorType(x.dtype, x.shape));
  });
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), bound)[y]!;
}

function infer(op: string, types: readonly (readonly [DType, Shape] | '')[], attrs: Attrs = {}): TensorType {
  const b = new GraphBuilder();
  const names = types.map((ty, i) => (ty === '' ? '' : b.input(`x${i}`, tensorType(ty[0], ty[1]))));
  return b.typeOf(b.op(op, names, attrs));
}

const t = (dtype: DType, shape: readonly number[], values: readonly number[]): Tensor => makeTensor(dtype, shape, values);
const values = (x: Tensor): number[] => [...x.data];

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e)).toBeLessThanOrEqual(tol));
}

describe('Softmax and LogSoftmax', () => {
  it('infers the input type and checks axis and dtype', () => {
    expect(infer('Softmax', [['f16', ['b', 10]]])).toMatchObject({ dtype: 'f16', shape: ['b', 10] });
    expect(infer('LogSoftmax', [['f32', [2, 3]]], { axis: 0 }).shape).toEqual([2, 3]);
    expect(() => infer('Softmax', [['f32', [2, 3]]], { axis: 2 })).toThrow('Softmax: axis 2 is out of range for rank 2 (expected -2..1)');
    expect(() => infer('Softmax', [['f32', []]])).toThrow('Softmax: axis -1 is out of range for rank 0');
    expect(() => infer('LogSoftmax', [['i32', [3]]])).toThrow('LogSoftmax needs an input of a float dtype, got i32');
  });

  it('Softmax of [1,2,3]', () => {
    const want = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
    expectClose(softmax64([1, 2, 3], 1, 3, 1, false), want, 2.5e-16); // about 2 ulps
    expect(values(run('Softmax', [t('f32', [3], [1, 2, 3])]))).toEqual(want.map(Math.fround));
  });

  it('LogSoftmax of [1,2,3]', () => {
    const want = [-2.40760596444438, -1.4076059644443801, -0.40760596444438013];
    expectClose(softmax64([1, 2, 3], 1, 3, 1, true), want, 1e-15);
    expect(values(run('LogSoftmax', [t('f32', [3], [1, 2, 3])]))).toEqual(want.map(Math.fround));
  });

  it('is stable for large inputs and exact at -inf', () => {
    expect(values(run('Softmax', [t('f32', [2], [1000, 1000])]))).toEqual([0.5, 0.5]);
    expect(values(run('Softmax', [t('f32', [3], [-Infinity, 0, -Infinity])]))).toEqual([0, 1, 0]);
    expect(values(run('LogSoftmax', [t('f32', [2], [-1e4, 0])]))).toEqual([-1e4, 0]);
  });

  it('normalises along the requested axis', () => {
    const x = t('f32', [2, 2], [0, 5, Math.log(3), 5]);
    expectClose(run('Softmax', [x], { axis: 0 }).data, [0.25, 0.5, 0.75, 0.5], 1e-7);
    const e5 = Math.exp(5);
    expectClose(run('Softmax', [x], { axis: -1 }).data, [1 / (1 + e5), e5 / (1 + e5), 3 / (3 + e5), e5 / (3 + e5)], 1e-7);
  });
});

describe('LayerNormalization', () => {
  it('infers X type; Scale and B broadcast to the normalised shape', () => {
    expect(infer('LayerNormalization', [['f32', ['b', 's', 8]], ['f32', [8]], ['f32', [8]]])).toMatchObject({ dtype: 'f32', shape: ['b', 's', 8] });
    expect(infer('LayerNormalization', [['f32', [2, 3, 4]], ['f32', [3, 1]]], { axis: 1 }).shape).toEqual([2, 3, 4]);
    expect(infer('LayerNormalization', [['f16', [2, 4]], ['f16', [4]], '']).dtype).toBe('f16');
  });

  it('names shape and dtype problems', () => {
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], ['f32', [3]]])).toThrow('LayerNormalization: Scale of shape [3] does not broadcast to [4]');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], ['f32', [2, 4]]])).toThrow('Scale of shape [2,4] does not broadcast to [4]');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], ['f32', [4]], ['f32', [5]]])).toThrow('B of shape [5] does not broadcast to [4]');
    expect(() => infer('LayerNormalization', [['i32', [2, 4]], ['i32', [4]]])).toThrow('LayerNormalization needs X of a float dtype, got i32');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], ['f16', [4]]])).toThrow('LayerNormalization needs Scale of dtype f32 (as X), got f16');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], ['f32', [4]]], { axis: 2 })).toThrow('LayerNormalization: axis 2 is out of range');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]]])).toThrow('LayerNormalization takes 2 to 3 inputs, got 1');
    expect(() => infer('LayerNormalization', [['f32', [2, 4]], '', ['f32', [4]]])).toThrow('LayerNormalization needs input 1, which was omitted');
  });

  it('normalises the trailing axes', () => {
    // [1,2,3,4]: mean 2.5, variance 1.25.
    const s = Math.sqrt(1.25);
    const y = run('LayerNormalization', [t('f32', [1, 4], [1, 2, 3, 4]), t('f32', [4], [1, 1, 1, 1])], { epsilon: 0 });
    expect(values(y)).toEqual([-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s].map(Math.fround));
    // Scale and B of shape [1] broadcast; default epsilon 1e-5.
    const se = Math.sqrt(1.25 + 1e-5);
    const z = run('LayerNormalization', [t('f32', [1, 4], [1, 2, 3, 4]), t('f32', [1], [2]), t('f32', [1], [0.5])]);
    expect(values(z)).toEqual([-1.5, -0.5, 0.5, 1.5].map((d) => Math.fround((d / se) * 2 + 0.5)));
  });

  it('axis=1 normalises over all trailing dims, with per-element Scale', () => {
    // Two rows of 4 elements, each viewed as [2,2]: [0,0,2,2] (mean 1, var 1) and [5,5,5,5] (var 0).
    const x = t('f32', [2, 2, 2], [0, 0, 2, 2, 5, 5, 5, 5]);
    const scale = t('f32', [2, 1], [1, 10]);
    const y = run('LayerNormalization', [x, scale, ''], { axis: 1, epsilon: 0 });
    expect(values(y).slice(0, 4)).toEqual([-1, -1, 10, 10]);
    expect(values(y).slice(4)).toEqual([NaN, NaN, NaN, NaN]); // 0/sqrt(0): epsilon exists for this
    const yEps = run('LayerNormalization', [x, scale, ''], { axis: 1 });
    expect(values(yEps).slice(4)).toEqual([0, 0, 0, 0]);
  });
});

describe('BatchNormalization', () => {
  const params = (c: number) => Array.from({ length: 4 }, () => ['f32', [c]] as const);

  it('infers X type and checks per-channel parameters', () => {
    expect(infer('BatchNormalization', [['f32', ['n', 3, 'h', 'w']], ...params(3)])).toMatchObject({ dtype: 'f32', shape: ['n', 3, 'h', 'w'] });
    expect(infer('BatchNormalization', [['f16', [4, 2]], ...Array.from({ length: 4 }, () => ['f16', [2]] as const)]).shape).toEqual([4, 2]);
    expect(() => infer('BatchNormalization', [['f32', [1, 3, 4]], ['f32', [3]], ['f32', [3]], ['f32', [4]], ['f32', [3]]])).toThrow(
      'BatchNormalization needs input_mean of shape [3] (X\'s channels), got [4]',
    );
    expect(() => infer('BatchNormalization', [['f32', [3]], ...params(3)])).toThrow('BatchNormalization needs X of rank >= 2 (N, C, ...), got [3]');
    expect(() => infer('BatchNormalization', [['f32', [1, 3]], ['f16', [3]], ...params(3).slice(1)])).toThrow('needs scale of dtype f32 (as X), got f16');
    expect(() => infer('BatchNormalization', [['f32', [1, 3]], ...params(3).slice(1)])).toThrow('BatchNormalization takes 5 inputs, got 4');
  });

  it('rejects training mode', () => {
    expect(() => infer('BatchNormalization', [['f32', [1, 3]], ...params(3)], { training_mode: 1 })).toThrow(
      'training-mode BatchNormalization is not supported; export the model in eval mode',
    );
    expect(infer('BatchNormalization', [['f32', [1, 3]], ...params(3)], { training_mode: 0, momentum: 0.99 }).shape).toEqual([1, 3]);
  });

  it('applies (x - mean) / sqrt(var + eps) * scale + B per channel', () => {
    // N=2, C=2, D=2. Channel 0: scale 1, B 0, mean 2, var 1. Channel 1: scale 2, B 1, mean 15, var 25.
    const x = t('f32', [2, 2, 2], [1, 3, 10, 20, 2, 4, 15, 25]);
    const [scale, bias, mean, variance] = [[1, 2], [0, 1], [2, 15], [1, 25]].map((v) => t('f32', [2], v));
    const y = run('BatchNormalization', [x, scale!, bias!, mean!, variance!], { epsilon: 0 });
    expect(values(y)).toEqual([-1, 1, -1, 3, 0, 2, 1, 5]);
    const yEps = run('BatchNormalization', [x, scale!, bias!, mean!, variance!]);
    expect(yEps.data[0]).toBe(Math.fround(-1 / Math.sqrt(1 + 1e-5)));
  });
});

const row = (min: number, max: number) => fc.array(fc.double({ min, max, noNaN: true }), { minLength: 1, maxLength: 40 });

describe('normalisation properties', () => {
  it('Softmax rows sum to 1 within 1e-12 in float64', () => {
    fc.assert(
      fc.property(row(-1e3, 1e3), (xs) => {
        const y = softmax64(xs, 1, xs.length, 1, false);
        expect(Math.abs(y.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
        expect(y.every((v) => v >= 0 && v <= 1)).toBe(true);
      }),
    );
  });

  it('Softmax is invariant under shifts and exp(LogSoftmax) = Softmax', () => {
    fc.assert(
      fc.property(row(-50, 50), fc.double({ min: -100, max: 100, noNaN: true }), (xs, c) => {
        const y = softmax64(xs, 1, xs.length, 1, false);
        const shifted = softmax64(
          xs.map((x) => x + c),
          1,
          xs.length,
          1,
          false,
        );
        const viaLog = softmax64(xs, 1, xs.length, 1, true).map(Math.exp);
        y.forEach((v, i) => {
          expect(Math.abs(shifted[i]! - v)).toBeLessThan(1e-12);
          expect(Math.abs(viaLog[i]! - v)).toBeLessThan(1e-12);
        });
      }),
    );
  });

  it('f32 Softmax through the interpreter: every slice along the axis sums to 1 within rounding', () => {
    const shapes = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 });
    const cases = shapes.chain((shape) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return fc.tuple(
        fc.constant(shape),
        fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: n, maxLength: n }),
        fc.integer({ min: 0, max: shape.length - 1 }),
      );
    });
    fc.assert(
      fc.property(cases, ([shape, data, axis]) => {
        const y = run('Softmax', [makeTensor('f32', shape, data)], { axis });
        const reduced = run('ReduceSum', [y], { axes: [axis] });
        // Each term carries at most half an f32 ulp (<= 2^-25 for values <= 1); the f32 sum rounds again.
        const tol = (shape[axis]! + 1) * 2 ** -24;
        reduced.data.forEach((s) => expect(Math.abs(s - 1)).toBeLessThanOrEqual(tol));
      }),
      { numRuns: 60 },
    );
  });

  it('LayerNormalization output has mean 0 and variance v/(v+eps) per row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 2, maxLength: 30 }).filter((xs) => new Set(xs).size > 1),
        (xs) => {
          const n = xs.length;
          const y = run('LayerNormalization', [t('f32', [1, n], xs), t('f32', [n], Array(n).fill(1))]);
          const mean = xs.reduce((a, b) => a + b, 0) / n;
          const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
          const ym = y.data.reduce((a, b) => a + b, 0) / n;
          const yv = y.data.reduce((a, b) => a + (b - ym) ** 2, 0) / n;
          expect(Math.abs(ym)).toBeLessThan(1e-6);
          expect(Math.abs(yv - v / (v + 1e-5))).toBeLessThan(1e-6);
        },
      ),
    );
  });
});
