// MatMul and Gemm: type inference (1-D promotion, batch broadcasting, symbolic dims), error messages, and
// reference values against hand-computed results and an independent naive triple loop.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  GraphBuilder,
  type Shape,
  interpret,
  makeTensor,
  tensorType,
  toleranceExcess,
} from '../../ir/index.js';
import { f32, infer, run } from './op-harness.js';



const shapeOf = (op: string, shapes: Shape[], attrs: Attrs = {}): Shape =>
  infer(op, shapes.map((s) => tensorType('f32', s)), attrs)[0]!.shape;


const iota = (shape: number[], from = 1) => f32(shape, (i) => i + from);

/** C = A @ B for row-major 2-D arrays, written without any shared helper. */
function naiveMatMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * b[p * n + j]!;
      out.push(s);
    }
  return out;
}

describe('MatMul inference', () => {
  it('multiplies 2-D matrices', () => {
    expect(shapeOf('MatMul', [[2, 3], [3, 4]])).toEqual([2, 4]);
  });

  it('promotes 1-D operands and drops the added dims', () => {
    expect(shapeOf('MatMul', [[3], [3, 4]])).toEqual([4]);
    expect(shapeOf('MatMul', [[2, 3], [3]])).toEqual([2]);
    expect(shapeOf('MatMul', [[3], [3]])).toEqual([]);
    expect(shapeOf('MatMul', [[5, 2, 3], [3]])).toEqual([5, 2]);
    expect(shapeOf('MatMul', [[3], [5, 3, 4]])).toEqual([5, 4]);
  });

  it('broadcasts batch dims like numpy', () => {
    expect(shapeOf('MatMul', [[2, 1, 2, 3], [3, 3, 2]])).toEqual([2, 3, 2, 2]);
    expect(shapeOf('MatMul', [[7, 2, 3], [3, 4]])).toEqual([7, 2, 4]);
  });

  it('carries symbolic dims', () => {
    expect(shapeOf('MatMul', [['b', 's', 8], [8, 16]])).toEqual(['b', 's', 16]);
    expect(shapeOf('MatMul', [['b', 2, 'k'], ['b', 'k', 3]])).toEqual(['b', 2, 3]);
    expect(shapeOf('MatMul', [[1, 2, 3], ['b', 3, 4]])).toEqual(['b', 2, 4]);
  });

  it('keeps the dtype of its float operands', () => {
    expect(infer('MatMul', [tensorType('f16', [2, 3]), tensorType('f16', [3, 2])])[0]!.dtype).toBe('f16');
    expect(infer('MatMul', [tensorType('bf16', [2, 3]), tensorType('bf16', [3, 2])])[0]!.dtype).toBe('bf16');
  });

  it('names what is wrong', () => {
    expect(() => shapeOf('MatMul', [[2, 3], [4, 5]])).toThrow('MatMul: inner dimensions differ: [2,3] x [4,5]');
    expect(() => shapeOf('MatMul', [['b', 'k'], ['j', 5]])).toThrow('inner dimensions differ: [b,k] x [j,5]');
    expect(() => shapeOf('MatMul', [[2, 2, 3], [3, 3, 4]])).toThrow(/MatMul: batch dims of \[2,2,3\] x \[3,3,4\]: cannot broadcast/);
    expect(() => shapeOf('MatMul', [[], [3]])).toThrow('MatMul: operands must have rank >= 1');
    expect(() => infer('MatMul', [tensorType('f32', [2, 3]), tensorType('f16', [3, 2])])).toThrow(
      'MatMul: A and B must have the same dtype, got f32 and f16',
    );
    expect(() => infer('MatMul', [tensorType('i32', [2, 3]), tensorType('i32', [3, 2])])).toThrow(
      'MatMul: A must be a float tensor (f32, f16 or bf16), got i32',
    );
    expect(() => infer('MatMul', [tensorType('f32', [2, 3])])).toThrow('MatMul takes 2 inputs, got 1');
  });
});

describe('MatMul reference', () => {
  it('computes a 2x3 @ 3x2 product', () => {
    const y = run('MatMul', [iota([2, 3]), iota([3, 2], 7)]);
    expect(y.shape).toEqual([2, 2]);
    expect(Array.from(y.data)).toEqual([58, 64, 139, 154]);
  });

  it('handles vector operands', () => {
    expect(Array.from(run('MatMul', [iota([3]), iota([3, 2])]).data)).toEqual([22, 28]);
    expect(Array.from(run('MatMul', [iota([2, 3]), iota([3])]).data)).toEqual([14, 32]);
    expect(Array.from(run('MatMul', [iota([3]), iota([3])]).data)).toEqual([14]);
  });

  it('broadcasts [2,1,2,3] @ [3,3,2] batch by batch', () => {
    const a = iota([2, 1, 2, 3]);
    const b = f32([3, 3, 2], (i) => (i % 5) - 2);
    const y = run('MatMul', [a, b]);
    expect(y.shape).toEqual([2, 3, 2, 2]);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) expected.push(...naiveMatMul(a.data.subarray(i * 6, i * 6 + 6), b.data.subarray(j * 6, j * 6 + 6), 2, 3, 2));
    expect(Array.from(y.data)).toEqual(expected);
  });

  it('rounds the float64 accumulation to the dtype once', () => {
    const a = makeTensor('f16', [1, 2], [1, 2 ** -11]);
    const b = makeTensor('f16', [2, 1], [1, 1]);
    // 1 + 2^-11 is not an f16; it rounds (ties to even) back to 1.
    expect(Array.from(run('MatMul', [a, b]).data)).toEqual([1]);
  });

  it('equals a naive triple loop on random matrices', () => {
    const dims = fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }));
    const value = fc.float({ min: -8, max: 8, noNaN: true, noDefaultInfinity: true });
    const matrices = dims.chain(([m, k, n]) =>
      fc.tuple(
        fc.constant([m, k, n] as const),
        fc.array(value, { minLength: m * k, maxLength: m * k }),
        fc.array(value, { minLength: k * n, maxLength: k * n }),
      ),
    );
    fc.assert(
      fc.property(matrices, ([[m, k, n], av, bv]) => {
        const y = run('MatMul', [f32([m, k], av), f32([k, n], bv)]);
        const a = f32([m, k], av).data;
        const b = f32([k, n], bv).data;
        expect(toleranceExcess(y, f32([m, n], naiveMatMul(a, b, m, k, n)), 0, 0)).toBe(0);
      }),
    );
  });

  it('runs through the interpreter with a symbolic batch', () => {
    const g = new GraphBuilder();
    g.symbol('b', 1, 8);
    const x = g.input('x', tensorType('f32', ['b', 2, 3]));
    const w = g.constant(iota([3, 2]));
    const y = g.op('MatMul', [x, w]);
    expect(g.typeOf(y).shape).toEqual(['b', 2, 2]);
    const out = interpret(g.output(y).build(), { x: iota([2, 2, 3]) })[y]!;
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.data)).toEqual([22, 28, 49, 64, 76, 100, 103, 136]);
  });
});

describe('Gemm', () => {
  it('infers [M,N] after transposes', () => {
    expect(shapeOf('Gemm', [[2, 3], [3, 4]])).toEqual([2, 4]);
    expect(shapeOf('Gemm', [[3, 2], [3, 4]], { transA: 1 })).toEqual([2, 4]);
    expect(shapeOf('Gemm', [[2, 3], [4, 3]], { transB: 1 })).toEqual([2, 4]);
    expect(shapeOf('Gemm', [['m', 3], [3, 4], [4]])).toEqual(['m', 4]);
    expect(shapeOf('Gemm', [[2, 3], [3, 4], [2, 1]])).toEqual([2, 4]);
    expect(shapeOf('Gemm', [[2, 3], [3, 4], []])).toEqual([2, 4]);
  });

  it('rejects what ONNX rejects', () => {
    expect(() => shapeOf('Gemm', [[2, 3], [4, 3]])).toThrow('Gemm: inner dimensions differ: [2,3] x [4,3]');
    expect(() => shapeOf('Gemm', [[2, 3], [4, 3]], { transA: 1 })).toThrow('Gemm: inner dimensions differ: [2,3]^T x [4,3]');
    expect(() => shapeOf('Gemm', [[2, 3], [3, 4], [3]])).toThrow('Gemm: C of shape [3] does not broadcast to [2,4]');
    expect(() => shapeOf('Gemm', [[2, 3], [3, 4], [2, 2, 4]])).toThrow('Gemm: C of shape [2,2,4] does not broadcast to [2,4]');
    expect(() => shapeOf('Gemm', [[1, 2, 3], [3, 4]])).toThrow('Gemm: A and B must be 2-D');
    expect(() => shapeOf('Gemm', [[2, 3], [3, 4]], { transA: 2 })).toThrow('Gemm: transA must be 0 or 1, got 2');
    expect(() => infer('Gemm', [tensorType('f32', [2, 3]), tensorType('f32', [3, 4]), tensorType('f16', [4])])).toThrow(
      'Gemm: A and C must have the same dtype, got f32 and f16',
    );
  });

  it('computes alpha * A @ B + beta * C by hand', () => {
    const y = run('Gemm', [f32([1, 2], [1, 2]), f32([2, 1], [3, 4]), f32([1], [10])], { alpha: 2, beta: 0.5 });
    expect(Array.from(y.data)).toEqual([2 * 11 + 5]);
  });

  it('applies transA, transB and a broadcast C', () => {
    const aT = iota([3, 2]); // stored [K,M]
    const bT = f32([4, 3], (i) => i - 5); // stored [N,K]
    const c = f32([2, 1], [100, 200]); // one bias per row
    const y = run('Gemm', [aT, bT, c], { transA: 1, transB: 1, alpha: 0.5, beta: 2 });
    const a = [1, 3, 5, 2, 4, 6]; // aT transposed by hand
    const b = [-5, -2, 1, 4, -4, -1, 2, 5, -3, 0, 3, 6]; // bT transposed by hand
    const ab = naiveMatMul(a, b, 2, 3, 4);
    expect(Array.from(y.data)).toEqual(ab.map((v, i) => 0.5 * v + 2 * (i < 4 ? 100 : 200)));
  });

  it('broadcasts a row of C and works without C', () => {
    const a = iota([2, 2]);
    const b = iota([2, 2]);
    expect(Array.from(run('Gemm', [a, b, f32([2], [1, -1])]).data)).toEqual([8, 9, 16, 21]);
    expect(Array.from(run('Gemm', [a, b]).data)).toEqual([7, 10, 15, 22]);
    expect(Array.from(run('Gemm', [a, b, undefined], { beta: 3 }).data)).toEqual([7, 10, 15, 22]);
  });
});
