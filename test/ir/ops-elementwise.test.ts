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
  lookupOp,
  makeTensor,
  roundF16,
  tensorType,
  tensorsIdentical,
} from '../../ir/index.js';
import { erf, erfc, gelu, geluTanh, sigmoid } from '../../ir/ops/elementwise-table.js';
import { lookupElementwise } from '../../ir/ops/elementwise.js';

/** Build a one-node graph through GraphBuilder and evaluate it with the interpreter. */
function run(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => b.input(`x${i}`, tensorType(t.dtype, t.shape)));
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), Object.fromEntries(names.map((n, i) => [n, inputs[i]!])))[y]!;
}

/** The inferred output type of one node with the given input types. */
function infer(op: string, types: readonly (readonly [DType, Shape])[], attrs: Attrs = {}): TensorType {
  const b = new GraphBuilder();
  const names = types.map(([d, s], i) => b.input(`x${i}`, tensorType(d, s)));
  return b.typeOf(b.op(op, names, attrs));
}

const t = (dtype: DType, shape: readonly number[], values: readonly number[]): Tensor => makeTensor(dtype, shape, values);
const values = (x: Tensor): number[] => [...x.data];

describe('elementwise registry', () => {
  it('registers every op of the table with its arity', () => {
    const names = ['Sqrt', 'Exp', 'Log', 'Tanh', 'Sigmoid', 'Relu', 'LeakyRelu', 'Gelu', 'Erf', 'Neg', 'Abs', 'Reciprocal', 'Cast', 'Clip'];
    for (const n of names) expect(lookupOp(n)?.inputs).toEqual({ min: 1, max: 1 });
    for (const n of ['Sin', 'Atanh', 'Sign', 'IsNaN', 'IsInf', 'Softplus', 'Mish', 'Shrink', 'Swish', 'BitwiseNot'])
      expect(lookupOp(n)?.inputs).toEqual({ min: 1, max: 1 });
    for (const n of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'PRelu', 'Mod', 'BitShiftLeft', 'BitShiftRight', 'BitwiseXor'])
      expect(lookupOp(n)?.inputs).toEqual({ min: 2, max: 2 });
    expect(lookupOp('Min')?.inputs).toEqual({ min: 1, max: Infinity });
    expect(lookupOp('Where')?.inputs).toEqual({ min: 3, max: 3 });
    expect(lookupElementwise('Gelu')?.attrs).toEqual({ approximate: { kind: 'string', default: 'none' } });
  });
});

describe('elementwise type inference', () => {
  it('broadcasts numpy-style, including symbolic dims', () => {
    expect(infer('Add', [['f32', [2, 3]], ['f32', [3]]]).shape).toEqual([2, 3]);
    expect(infer('Mul', [['f32', [4, 1]], ['f32', [1, 5]]]).shape).toEqual([4, 5]);
    expect(infer('Sub', [['f32', []], ['f32', [2, 2]]]).shape).toEqual([2, 2]);
    expect(infer('Add', [['f32', ['batch', 1]], ['f32', [3]]]).shape).toEqual(['batch', 3]);
    expect(infer('Add', [['f32', ['n', 'd']], ['f32', ['d']]]).shape).toEqual(['n', 'd']);
    expect(infer('Where', [['bool', [2, 1]], ['f32', [3]], ['f32', []]])).toMatchObject({ dtype: 'f32', shape: [2, 3] });
    expect(infer('Max', [['i32', [2, 1]], ['i32', [1, 3]], ['i32', [1]], ['i32', [2, 3]]]).shape).toEqual([2, 3]);
    expect(infer('Relu', [['f16', ['s']]])).toMatchObject({ dtype: 'f16', shape: ['s'] });
  });

  it('rejects shapes that do not broadcast', () => {
    expect(() => infer('Add', [['f32', [2, 3]], ['f32', [4]]])).toThrow(/^cannot broadcast shapes \[2,3\] and \[4\] \(dim 1: 3 vs 4\)$/);
    expect(() => infer('Mul', [['f32', ['n']], ['f32', ['m']]])).toThrow('cannot broadcast shapes [n] and [m]');
    expect(() => infer('Where', [['bool', [2]], ['f32', [3]], ['f32', [3]]])).toThrow('cannot broadcast shapes [2] and [3] and [3]');
  });

  it('derives output dtypes: same, bool for comparisons, the attribute for Cast', () => {
    expect(infer('Div', [['i4', [2]], ['i4', [2]]]).dtype).toBe('i4');
    expect(infer('Equal', [['f32', [2]], ['f32', [1]]])).toMatchObject({ dtype: 'bool', shape: [2] });
    expect(infer('Less', [['u8', [2]], ['u8', [2]]]).dtype).toBe('bool');
    expect(infer('Greater', [['i32', []], ['i32', []]]).dtype).toBe('bool');
    expect(infer('Equal', [['bool', [2]], ['bool', [2]]]).dtype).toBe('bool');
    expect(infer('Cast', [['f32', [2, 'n']]], { to: 'i4' })).toMatchObject({ dtype: 'i4', shape: [2, 'n'] });
    expect(infer('Where', [['bool', [2]], ['u3', [2]], ['u3', [2]]]).dtype).toBe('u3');
  });

  it('names the dtype problem', () => {
    expect(() => infer('Sqrt', [['i32', [2]]])).toThrow('Sqrt needs a float input, got i32');
    expect(() => infer('Gelu', [['u8', [2]]])).toThrow('Gelu needs a float input, got u8');
    expect(() => infer('Pow', [['bool', [2]], ['bool', [2]]])).toThrow('Pow needs float or int inputs, got bool');
    expect(() => infer('Sin', [['i32', [2]]])).toThrow('Sin needs a float input, got i32');
    expect(() => infer('BitwiseAnd', [['f32', [2]], ['f32', [2]]])).toThrow('BitwiseAnd needs int inputs, got f32');
    expect(() => infer('Neg', [['bool', [2]]])).toThrow('Neg needs a float or int input, got bool');
    expect(() => infer('Add', [['bool', [2]], ['bool', [2]]])).toThrow('Add needs float or int inputs, got bool');
    expect(() => infer('Less', [['bool', [2]], ['bool', [2]]])).toThrow('Less needs float or int inputs, got bool');
    expect(() => infer('Add', [['f32', [2]], ['i32', [2]]])).toThrow('Add needs operands of one dtype, got f32 and i32');
    expect(() => infer('Add', [['f32', [2]], ['f16', [2]]])).toThrow('got f32 and f16');
    expect(() => infer('Where', [['f32', [2]], ['f32', [2]], ['f32', [2]]])).toThrow('Where needs a bool condition, got f32');
    expect(() => infer('Where', [['bool', [2]], ['f32', [2]], ['i32', [2]]])).toThrow('Where needs operands of one dtype, got f32 and i32');
  });

  it('checks arity and attributes', () => {
    expect(() => infer('Add', [['f32', [2]]])).toThrow('Add takes 2 inputs, got 1');
    expect(() => infer('Min', [])).toThrow('Min takes at least 1 input, got 0');
    expect(() => infer('Cast', [['f32', [2]]])).toThrow("missing required attribute 'to'");
    expect(() => infer('Cast', [['f32', [2]]], { to: 'f64' })).toThrow("Cast: 'to' must be a dtype name");
    expect(() => infer('Gelu', [['f32', [2]]], { approximate: 'fast' })).toThrow("Gelu: approximate must be 'none' or 'tanh', got 'fast'");
    expect(() => infer('Relu', [['f32', [2]]], { alpha: 1 })).toThrow("unknown attribute 'alpha'");
    // Names of Object.prototype's members are unknown attributes too, not a schema entry of kind undefined.
    for (const name of ['toString', 'constructor', 'hasOwnProperty'])
      expect(() => infer('Relu', [['f32', [2]]], { [name]: 1 })).toThrow(`unknown attribute '${name}'`);
    expect(() => infer('Clip', [['f32', [2]]], { min: 'a' })).toThrow("attribute 'min' must be float");
  });
});

describe('scalar math in float64', () => {
  it('erf and erfc match high-precision values', () => {
    const cases: [number, number][] = [
      [0, 0],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [-2, -0.9953222650189527],
      [3, 0.9999779095030014],
    ];
    for (const [x, want] of cases) expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(2 * Number.EPSILON * Math.abs(want));
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erf(NaN)).toBeNaN();
    // Odd, down to the sign of zero (as C's and Python's erf).
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(Object.is(erf(0), 0)).toBe(true);
    // The tail keeps relative precision: erfc(5) = 1.5374597944280349e-12.
    expect(erfc(5) / 1.5374597944280349e-12 - 1).toBeLessThan(1e-14);
    expect(erfc(-1)).toBeCloseTo(1.8427007929497149, 15);
  });

  it('Gelu, exact and tanh-approximated', () => {
    expect(Math.abs(gelu(1) - 0.8413447460685429)).toBeLessThanOrEqual(2e-16);
    expect(gelu(0)).toBe(0);
    // x·Φ(x) for x = -10 is tiny but not 0: 1 + erf would cancel to 0, erfc does not.
    expect(gelu(-10) / -7.61985302416052606597e-23 - 1).toBeLessThan(1e-14);
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 15);
    expect(geluTanh(-3)).toBeCloseTo(-0.0036373920817729943, 15);
  });

  it('Sigmoid saturates without overflow and keeps small values', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-40) / 4.2483542552915889e-18 - 1).toBeLessThan(1e-14);
  });
});

describe('elementwise reference semantics', () => {
  it('unary float ops round to the dtype', () => {
    expect(values(run('Gelu', [t('f32', [3], [1, 0, -10])]))).toEqual([Math.fround(0.8413447460685429), 0, Math.fround(-7.61985302416052606597e-23)]);
    expect(values(run('Gelu', [t('f32', [1], [1])], { approximate: 'tanh' }))).toEqual([Math.fround(0.8411919906082768)]);
    expect(values(run('Sigmoid', [t('f32', [3], [-1000, 0, 1000])]))).toEqual([0, 0.5, 1]);
    expect(values(run('Erf', [t('f16', [2], [1, -0.5])]))).toEqual([roundF16(0.8427007929497149), roundF16(-0.5204998778130465)]);
    expect(values(run('Sqrt', [t('f32', [3], [4, 2, -1])]))).toEqual([2, Math.fround(Math.SQRT2), NaN]);
    expect(values(run('Log', [t('f32', [3], [0, 1, 4])]))).toEqual([-Infinity, 0, Math.fround(Math.log(4))]);
    expect(values(run('Reciprocal', [t('f32', [2], [4, 0])]))).toEqual([0.25, Infinity]);
    expect(values(run('Exp', [t('f16', [1], [12])]))).toEqual([Infinity]); // e^12 > f16 max
    expect(values(run('Tanh', [t('f32', [1], [20])]))).toEqual([1]);
  });

  it('LeakyRelu, Relu, Neg, Abs', () => {
    expect(values(run('LeakyRelu', [t('f32', [2], [-2, 3])]))).toEqual([Math.fround(-0.02), 3]);
    expect(values(run('LeakyRelu', [t('f32', [2], [-2, 3])], { alpha: 0.5 }))).toEqual([-1, 3]);
    expect(values(run('Relu', [t('i8', [3], [-5, 0, 7])]))).toEqual([0, 0, 7]);
    expect(values(run('Neg', [t('i8', [2], [5, -128])]))).toEqual([-5, -128]); // -(-128) wraps
    expect(values(run('Abs', [t('i4', [2], [-3, -8])]))).toEqual([3, -8]);
  });

  it('Clip with absent, one-sided and crossed bounds', () => {
    const x = t('f32', [4], [-5, -1, 1, 5]);
    expect(values(run('Clip', [x]))).toEqual([-5, -1, 1, 5]);
    expect(values(run('Clip', [x], { min: -2 }))).toEqual([-2, -1, 1, 5]);
    expect(values(run('Clip', [x], { max: 0 }))).toEqual([-5, -1, 0, 0]);
    expect(values(run('Clip', [x], { min: -2, max: 2 }))).toEqual([-2, -1, 1, 2]);
    expect(values(run('Clip', [x], { min: 3, max: 1 }))).toEqual([1, 1, 1, 1]); // min > max: all max (ONNX)
    expect(values(run('Clip', [t('u8', [3], [0, 100, 255])], { min: 10, max: 200 }))).toEqual([10, 100, 200]);
  });

  it('Cast truncates toward zero, wraps narrow targets and maps to bool by x != 0', () => {
    expect(values(run('Cast', [t('f32', [7], [-2.7, 2.7, 7.9, 8, -9, NaN, 0.5])], { to: 'i4' }))).toEqual([-2, 2, 7, -8, 7, 0, 0]);
    expect(values(run('Cast', [t('f32', [2], [300.7, -1])], { to: 'u8' }))).toEqual([44, 255]);
    expect(values(run('Cast', [t('f32', [1], [-1])], { to: 'u32' }))).toEqual([4294967295]);
    expect(values(run('Cast', [t('f32', [5], [0, -0, 0.5, NaN, -3])], { to: 'bool' }))).toEqual([0, 0, 1, 1, 1]);
    expect(values(run('Cast', [t('i32', [2], [2049, 2051])], { to: 'f16' }))).toEqual([2048, 2052]); // ties to even
    expect(values(run('Cast', [t('bool', [2], [1, 0])], { to: 'f32' }))).toEqual([1, 0]);
    const y = run('Cast', [t('i32', [2], [3, -1])], { to: 'u2' });
    expect([y.dtype, ...y.data]).toEqual(['u2', 3, 3]);
  });

  it('binary arithmetic broadcasts and wraps like GPU integers', () => {
    const a = t('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(values(run('Add', [a, t('f32', [3], [10, 20, 30])]))).toEqual([11, 22, 33, 14, 25, 36]);
    expect(values(run('Sub', [t('f32', [2, 1], [1, 2]), a]))).toEqual([0, -1, -2, -2, -3, -4]);
    expect(values(run('Mul', [a, t('f32', [], [0.5])]))).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
    expect(values(run('Pow', [t('f32', [3], [2, 9, -8]), t('f32', [3], [10, 0.5, 1 / 3])]))).toEqual([1024, 3, NaN]);
    expect(values(run('Add', [t('i8', [1], [100]), t('i8', [1], [100])]))).toEqual([-56]);
    expect(values(run('Mul', [t('i32', [2], [65537, 2147483647]), t('i32', [2], [65537, 2147483647])]))).toEqual([131073, 1]);
    expect(values(run('Mul', [t('u32', [1], [4294967295]), t('u32', [1], [4294967295])]))).toEqual([1]);
  });

  it('Div truncates integers toward zero and defines x/0 = 0 for integers', () => {
    const x = t('i32', [6], [7, -7, 7, -7, 5, -2147483648]);
    const y = t('i32', [6], [2, 2, -2, -2, 0, -1]);
    expect(values(run('Div', [x, y]))).toEqual([3, -3, -3, 3, 0, -2147483648]);
    expect(values(run('Div', [t('u4', [2], [15, 3]), t('u4', [1], [4])]))).toEqual([3, 0]);
    expect(values(run('Div', [t('f32', [3], [1, -1, 0]), t('f32', [], [0])]))).toEqual([Infinity, -Infinity, NaN]);
  });

  it('Min and Max are variadic and propagate NaN', () => {
    expect(values(run('Max', [t('f32', [3], [1, 5, 2])]))).toEqual([1, 5, 2]);
    expect(values(run('Min', [t('i32', [3], [1, 5, 2]), t('i32', [1], [3])]))).toEqual([1, 3, 2]);
    const four = [t('f32', [2], [1, 9]), t('f32', [2], [4, 2]), t('f32', [], [3]), t('f32', [2, 1], [0, 10])];
    expect(values(run('Max', four))).toEqual([4, 9, 10, 10]);
    expect(values(run('Min', four))).toEqual([0, 0, 1, 2]);
    expect(values(run('Max', [t('f32', [2], [NaN, 1]), t('f32', [2], [1, NaN])]))).toEqual([NaN, NaN]);
  });

  it('comparisons produce bool, with NaN unequal to everything', () => {
    const a = t('f32', [4], [1, 2, 3, NaN]);
    const b = t('f32', [4], [2, 2, 2, NaN]);
    expect(run('Equal', [a, b])).toMatchObject({ dtype: 'bool', shape: [4] });
    expect(values(run('Equal', [a, b]))).toEqual([0, 1, 0, 0]);
    expect(values(run('Less', [a, b]))).toEqual([1, 0, 0, 0]);
    expect(values(run('Greater', [a, b]))).toEqual([0, 0, 1, 0]);
    expect(values(run('Less', [t('i4', [2], [-8, 7]), t('i4', [], [0])]))).toEqual([1, 0]);
  });

  it('Where broadcasts condition and both branches', () => {
    const cond = t('bool', [2, 1], [1, 0]);
    const y = run('Where', [cond, t('f32', [3], [1, 2, 3]), t('f32', [], [-1])]);
    expect(y).toMatchObject({ dtype: 'f32', shape: [2, 3] });
    expect(values(y)).toEqual([1, 2, 3, -1, -1, -1]);
    expect(values(run('Where', [t('bool', [3], [0, 1, 0]), t('i8', [1], [7]), t('i8', [3], [1, 2, 3])]))).toEqual([1, 7, 3]);
  });

  it('binds symbolic dims at interpretation time', () => {
    const b = new GraphBuilder();
    b.symbol('n', 1, 8);
    const x = b.input('x', tensorType('f32', ['n', 2]));
    const y = b.input('y', tensorType('f32', [2]));
    const z = b.op('Relu', [b.op('Sub', [x, y])]);
    b.output(z);
    const out = interpret(b.build(), { x: t('f32', [3, 2], [1, 2, 3, 4, 5, 6]), y: t('f32', [2], [3, 3]) })[z]!;
    expect(out.shape).toEqual([3, 2]);
    expect(values(out)).toEqual([0, 0, 0, 1, 2, 3]);
  });
});

/** Two shapes that broadcast together: drop leading dims and set dims to 1 at random, from one full shape. */
const broadcastPair = fc
  .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 })
  .chain((full) =>
    fc.tuple(
      ...[0, 1].map(() =>
        fc.tuple(fc.integer({ min: 0, max: full.length }), fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length })).map(
          ([drop, ones]) => full.map((d, i) => (ones[i] ? 1 : d)).slice(drop),
        ),
      ),
    ),
  );

const tensorOf = (dtype: DType, shape: number[]) =>
  fc
    .array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
    .map((v) => makeTensor(dtype, shape, v));

describe('elementwise properties', () => {
  it('Add and Mul are commutative under broadcasting', () => {
    fc.assert(
      fc.property(
        broadcastPair.chain(([s, u]) => fc.tuple(tensorOf('f32', s), tensorOf('f32', u))),
        ([a, b]) => {
          expect(tensorsIdentical(run('Add', [a, b]), run('Add', [b, a]))).toBe(true);
          expect(tensorsIdentical(run('Mul', [a, b]), run('Mul', [b, a]))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('broadcasting an operand equals materialising it first', () => {
    fc.assert(
      fc.property(
        broadcastPair.chain(([s, u]) => fc.tuple(tensorOf('f32', s), tensorOf('f32', u))),
        ([a, b]) => {
          const direct = run('Sub', [a, b]);
          // Materialise b at the output shape by adding a zero tensor of that shape.
          const zeros = makeTensor('f32', direct.shape, () => 0);
          const bFull = run('Add', [zeros, b]);
          expect(tensorsIdentical(run('Sub', [a, bFull]), direct)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('integer Div truncates: x = q*y + r with |r| < |y| and r taking the sign of x', () => {
    const i32 = fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 });
    fc.assert(
      fc.property(fc.array(fc.tuple(i32, i32.filter((y) => y !== 0)), { minLength: 1, maxLength: 20 }), (pairs) => {
        const q = run('Div', [t('i32', [pairs.length], pairs.map((p) => p[0])), t('i32', [pairs.length], pairs.map((p) => p[1]))]);
        pairs.forEach(([x, y], i) => {
          const r = BigInt(x) - BigInt(q.data[i]!) * BigInt(y);
          expect(r < 0n ? -r : r).toBeLessThan(BigInt(Math.abs(y)));
          expect(r === 0n || r < 0n === x < 0).toBe(true);
        });
      }),
    );
  });

  it('Cast to i4 wraps modulo 16 after truncation', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 1, maxLength: 20 }), (xs) => {
        const y = run('Cast', [t('f32', [xs.length], xs)], { to: 'i4' });
        xs.forEach((x, i) => {
          const m = (((Math.trunc(Math.fround(x)) + 8) % 16) + 16) % 16;
          expect(y.data[i]).toBe(m - 8);
        });
      }),
    );
  });
});
