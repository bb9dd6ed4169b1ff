// QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear and MatMulInteger: output dtypes, scale/zero-point
// layouts (per tensor, per axis, blocked) and their errors, the ONNX examples, ties rounding to even,
// saturation, and the round-trip property |dequantize(quantize(x)) - x| <= scale / 2 inside the range.
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
  intRange,
  makeTensor,
  tensorType,
} from '../../ir/index.js';

function runAll(op: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}): Tensor[] {
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => (t ? b.input(`in${i}`, tensorType(t.dtype, t.shape)) : ''));
  const outs = b.node(op, names, attrs);
  b.output(...outs);
  const feeds = Object.fromEntries(inputs.flatMap((t, i) => (t ? [[`in${i}`, t]] : [])));
  const r = interpret(b.build(), feeds);
  return outs.map((o) => r[o]!);
}
const run = (op: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}): Tensor => runAll(op, inputs, attrs)[0]!;

function infer(op: string, types: ([DType, Shape] | undefined)[], attrs: Attrs = {}): TensorType[] {
  const b = new GraphBuilder();
  const names = types.map((t, i) => (t ? b.input(`in${i}`, tensorType(t[0], t[1])) : ''));
  return b.node(op, names, attrs).map((n) => b.typeOf(n));
}

const t = (dtype: DType, shape: number[], v: ArrayLike<number>): Tensor => makeTensor(dtype, shape, v);
const values = (x: Tensor): number[] => [...x.data];

describe('QuantizeLinear', () => {
  it('infers the zero point dtype, else output_dtype, else u8', () => {
    expect(infer('QuantizeLinear', [['f32', [2, 3]], ['f32', []], ['i8', []]])[0]).toEqual(tensorType('i8', [2, 3]));
    expect(infer('QuantizeLinear', [['f32', [2, 3]], ['f32', []]])[0]).toEqual(tensorType('u8', [2, 3]));
    expect(infer('QuantizeLinear', [['f16', ['n', 3]], ['f16', [3]]], { output_dtype: 'i4' })[0]).toEqual(tensorType('i4', ['n', 3]));
    expect(infer('QuantizeLinear', [['f32', [4, 6]], ['f32', [4, 2]], ['u4', [4, 2]]], { block_size: 3 })[0]).toEqual(tensorType('u4', [4, 6]));
  });

  it('names what is wrong', () => {
    const q = (types: ([DType, Shape] | undefined)[], attrs: Attrs = {}) => () => infer('QuantizeLinear', types, attrs);
    expect(q([['f32', [2]], ['f32', []]], { output_dtype: 'f16' })).toThrow('QuantizeLinear: output_dtype must be an integer type of at most 8 bits');
    expect(q([['f32', [2]], ['f32', []]], { output_dtype: 'int8' })).toThrow("QuantizeLinear: output_dtype 'int8' is not a dtype name");
    expect(q([['f32', [2]], ['f32', []], ['i32', []]])).toThrow('QuantizeLinear: the zero point must be an integer type of at most 8 bits');
    expect(q([['f32', [2]], ['f32', []], ['i8', []]], { output_dtype: 'u8' })).toThrow("QuantizeLinear: output_dtype u8 disagrees with the zero point's dtype i8");
    expect(q([['bool', [2]], ['f32', []]])).toThrow('QuantizeLinear: x must be a float or i32 tensor, got bool');
    expect(q([['f32', [2]], ['i32', []]])).toThrow('QuantizeLinear: scale must be a float tensor, got i32');
    expect(q([['f32', [2, 3]], ['f32', [2]]])).toThrow('QuantizeLinear: scale [2] must be a scalar (per tensor) or 1-D of length 1 or 3 (per axis 1 of x [2,3])');
    expect(q([['f32', [2, 3]], ['f32', [2, 3]]])).toThrow('blocked scales need block_size');
    expect(q([['f32', [2, 3]], ['f32', [3]], ['u8', [1]]])).toThrow('QuantizeLinear: zero point [1] must have the shape of scale [3]');
    expect(q([['f32', [2, 3]], ['f32', [3]]], { axis: 2 })).toThrow('QuantizeLinear: axis 2 is out of range for rank 2');
    expect(q([['f32', [4, 6]], ['f32', [4, 3]]], { block_size: 4 })).toThrow(
      'QuantizeLinear: with block_size=4 along axis 1, scale must be [4,2] for x [4,6], got [4,3]',
    );
    expect(q([['f32', [4, 6]], ['f32', [4, 3]]], { block_size: -1 })).toThrow('QuantizeLinear: block_size must be >= 0, got -1');
  });

  it('ONNX example: per tensor, saturating', () => {
    const y = run('QuantizeLinear', [t('f32', [6], [0, 2, 3, 1000, -254, -1000]), t('f32', [], [2]), t('u8', [], [128])]);
    expect(y.dtype).toBe('u8');
    expect(values(y)).toEqual([128, 129, 130, 255, 1, 0]);
  });

  it('ONNX example: per axis', () => {
    const x = t('f32', [1, 3, 3, 2], [-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470]);
    const y = run('QuantizeLinear', [x, t('f32', [3], [2, 4, 5]), t('u8', [3], [84, 24, 196])]);
    expect(values(y)).toEqual([3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102]);
  });

  it('ONNX example: blocked along axis 1', () => {
    const x = t('f32', [3, 4], [6, 12, 50, 5, 1, 8, 4, 5, 0, 20, 10, 4]);
    const scale = t('f32', [3, 2], [1.5, 2.5, 3, 4.9, 5.1, 6.9]);
    const y = run('QuantizeLinear', [x, scale, t('u8', [3, 2], [0, 1, 1, 0, 2, 3])], { axis: 1, block_size: 2 });
    expect(values(y)).toEqual([4, 8, 21, 3, 1, 4, 1, 1, 2, 6, 4, 4]);
  });

  it('rounds ties to even and saturates narrow types', () => {
    const x = t('f32', [6], [1, 3, 5, -1, -3, -5]); // x / 2 = ±0.5, ±1.5, ±2.5
    expect(values(run('QuantizeLinear', [x, t('f32', [], [2]), t('i8', [], [0])]))).toEqual([0, 2, 2, 0, -2, -2]);
    const wide = t('f32', [4], [-100, -8.5, 7.5, 100]);
    expect(values(run('QuantizeLinear', [wide, t('f32', [], [1])], { output_dtype: 'i4' }))).toEqual([-8, -8, 7, 7]);
    expect(values(run('QuantizeLinear', [wide, t('f32', [], [1]), t('u2', [], [1])]))).toEqual([0, 0, 3, 3]);
  });
});

describe('DequantizeLinear', () => {
  it("infers the scale's dtype and checks the zero point", () => {
    expect(infer('DequantizeLinear', [['u8', [4]], ['f32', []], ['u8', []]])[0]).toEqual(tensorType('f32', [4]));
    expect(infer('DequantizeLinear', [['i4', [2, 4]], ['f16', [2]]], { axis: 0 })[0]).toEqual(tensorType('f16', [2, 4]));
    expect(infer('DequantizeLinear', [['i32', [3]], ['f32', []]])[0]).toEqual(tensorType('f32', [3]));
    expect(() => infer('DequantizeLinear', [['u8', [4]], ['f32', []], ['i8', []]])).toThrow("DequantizeLinear: zero point must have x's dtype u8, got i8");
    expect(() => infer('DequantizeLinear', [['f32', [4]], ['f32', []]])).toThrow('DequantizeLinear: x must be an integer type of at most 8 bits');
    expect(() => infer('DequantizeLinear', [['u8', [4]], ['f32', []]], { output_dtype: 'f16' })).toThrow(
      "DequantizeLinear: output_dtype f16 disagrees with the scale's dtype f32",
    );
  });

  it('ONNX examples: per tensor, a [1] zero point with a scalar scale, per axis, blocked', () => {
    expect(values(run('DequantizeLinear', [t('u8', [4], [0, 3, 128, 255]), t('f32', [], [2]), t('u8', [], [128])]))).toEqual([-256, -250, 0, 254]);
    expect(values(run('DequantizeLinear', [t('i4', [5], [0, 1, 7, -4, -8]), t('f32', [], [2]), t('i4', [1], [1])], { axis: 0 }))).toEqual([
      -2, 0, 12, -10, -18,
    ]);
    const x = t('u8', [1, 3, 2, 2], [3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13]);
    const y = run('DequantizeLinear', [x, t('f32', [3], [2, 4, 5]), t('u8', [3], [84, 24, 196])]);
    expect(values(y)).toEqual([-162, 10, -100, 232, 200, 140, -76, 0, -860, -545, -820, -915]);
    const xb = t('u8', [1, 4, 1, 1], [3, 89, 34, 200]);
    const blocked = run('DequantizeLinear', [xb, t('f32', [1, 2, 1, 1], [3, 5]), t('u8', [1, 2, 1, 1], [1, 4])], { axis: 1, block_size: 2 });
    expect(values(blocked)).toEqual([6, 264, 150, 980]);
  });
});

describe('DynamicQuantizeLinear', () => {
  it('infers u8 data with an f32 scalar scale and u8 scalar zero point', () => {
    expect(infer('DynamicQuantizeLinear', [['f32', ['n', 4]]])).toEqual([tensorType('u8', ['n', 4]), tensorType('f32', []), tensorType('u8', [])]);
    expect(() => infer('DynamicQuantizeLinear', [['i8', [4]]])).toThrow('DynamicQuantizeLinear: x must be a float tensor, got i8');
  });

  it('ONNX examples, scale and zero point bit for bit', () => {
    const [y, scale, zp] = runAll('DynamicQuantizeLinear', [t('f32', [6], [0, 2, -3, -2.5, 1.34, 0.5])]);
    expect(values(y!)).toEqual([153, 255, 0, 26, 221, 179]);
    expect([scale!.data[0], zp!.data[0]]).toEqual([Math.fround(0.019607843831181526), 153]);
    const negative = runAll('DynamicQuantizeLinear', [t('f32', [6], [-1, -2.1, -1.3, -2.5, -3.34, -4])]);
    expect(values(negative[0]!)).toEqual([191, 121, 172, 96, 42, 0]);
    expect(values(negative[2]!)).toEqual([255]);
    const positive = runAll('DynamicQuantizeLinear', [t('f32', [3, 4], [1, 2.1, 1.3, 2.5, 3.34, 4, 1.5, 2.6, 3.9, 4, 3, 2.345])]);
    expect(values(positive[0]!)).toEqual([64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149]);
    expect([positive[1]!.data[0], positive[2]!.data[0]]).toEqual([Math.fround(0.01568627543747425), 0]);
  });

  it('an all-zero input gets scale 1/255 and zero point 0', () => {
    const [y, scale, zp] = runAll('DynamicQuantizeLinear', [t('f32', [2], [0, 0])]);
    expect([...values(y!), scale!.data[0], zp!.data[0]]).toEqual([0, 0, Math.fround(1 / 255), 0]);
  });
});

describe('MatMulInteger', () => {
  const A = t('u8', [4, 3], [11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0]);
  const B = t('u8', [3, 2], [1, 4, 2, 5, 3, 6]);

  it('infers i32 with MatMul shapes and checks operands and zero points', () => {
    expect(infer('MatMulInteger', [['u8', [4, 3]], ['i8', [3, 2]]])[0]).toEqual(tensorType('i32', [4, 2]));
    expect(infer('MatMulInteger', [['i8', ['b', 4, 3]], ['u8', [3, 2]], ['i8', [4]], ['u8', [2]]])[0]).toEqual(tensorType('i32', ['b', 4, 2]));
    expect(() => infer('MatMulInteger', [['u8', [4, 3]], ['u8', [2, 2]]])).toThrow('MatMulInteger: inner dimensions differ: [4,3] x [2,2]');
    expect(() => infer('MatMulInteger', [['i32', [4, 3]], ['u8', [3, 2]]])).toThrow('MatMulInteger: A must be i8 or u8, got i32');
    expect(() => infer('MatMulInteger', [['u8', [4, 3]], ['u8', [3, 2]], ['i8', []]])).toThrow("MatMulInteger: the zero point of A must have A's dtype u8, got i8");
    expect(() => infer('MatMulInteger', [['u8', [4, 3]], ['u8', [3, 2]], ['u8', [3]]])).toThrow(
      'MatMulInteger: a 1-D zero point of A [4,3] needs one entry per row (4), got [3]',
    );
    expect(() => infer('MatMulInteger', [['u8', [4, 3]], ['u8', [3, 2]], undefined, ['u8', [3]]])).toThrow('needs one entry per column (2), got [3]');
    expect(() => infer('MatMulInteger', [['u8', [4, 3]], ['u8', [3, 2]], ['u8', [2, 4, 1]]])).toThrow('MatMulInteger: the zero point of A of shape [2,4,1] does not broadcast to [4,3]');
  });

  it('ONNX example', () => {
    const y = run('MatMulInteger', [A, B, t('u8', [], [12]), t('u8', [], [0])]);
    expect(y.dtype).toBe('i32');
    expect(values(y)).toEqual([-38, -83, -44, -98, -50, -113, -56, -128]);
  });

  it('per-row and per-column zero points, i8 operands, no zero points', () => {
    const rows = run('MatMulInteger', [A, B, t('u8', [4], [12, 12, 0, 0])]);
    const plain = run('MatMulInteger', [A, B]);
    expect(values(rows)).toEqual([-38, -83, -44, -98, ...values(plain).slice(4)]);
    const cols = run('MatMulInteger', [A, B, undefined, t('u8', [2], [1, 0])]);
    // Column 0 of B shifted by 1: subtract each row sum of A.
    expect(values(cols)).toEqual(values(plain).map((v, i) => (i % 2 === 0 ? v - [21, 18, 15, 12][i >> 1]! : v)));
    const i8 = run('MatMulInteger', [t('i8', [1, 2], [-128, 127]), t('i8', [2, 1], [-128, -128]), t('i8', [], [-128])]);
    expect(values(i8)).toEqual([0 * -128 + 255 * -128]);
  });
});

describe('quantization properties', () => {
  it('dequantize(quantize(x)) is within scale/2 of x inside the representable range', () => {
    const arb = fc.record({
      dtype: fc.constantFrom<DType>('u8', 'i8', 'u4', 'i4', 'u2', 'i2'),
      scale: fc.double({ min: 0.01, max: 10, noNaN: true }).map(Math.fround),
      zpFrac: fc.double({ min: 0, max: 1, noNaN: true }),
      fracs: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }),
    });
    fc.assert(
      fc.property(arb, ({ dtype, scale, zpFrac, fracs }) => {
        const [lo, hi] = intRange(dtype);
        const zp = Math.round(lo + zpFrac * (hi - lo));
        // Representable reals are scale * [lo - zp, hi - zp].
        const x = t('f32', [fracs.length], fracs.map((f) => scale * (lo - zp + f * (hi - lo))));
        const b = new GraphBuilder();
        const ins = [b.input('x', tensorType('f32', x.shape)), b.input('s', tensorType('f32', [])), b.input('z', tensorType(dtype, []))];
        const q = b.op('QuantizeLinear', ins);
        const d = b.op('DequantizeLinear', [q, ins[1]!, ins[2]!]);
        b.output(d);
        const y = interpret(b.build(), { x, s: t('f32', [], [scale]), z: t(dtype, [], [zp]) })[d]!;
        y.data.forEach((v, i) => expect(Math.abs(v - x.data[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-6 * scale * (hi - lo)));
      }),
      { numRuns: 200 },
    );
  });

  it('MatMulInteger equals a float MatMul of the shifted operands', () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([m, k, n]) =>
      fc.record({
        a: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: m * k, maxLength: m * k }).map((v) => t('u8', [m, k], v)),
        b: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: k * n, maxLength: k * n }).map((v) => t('i8', [k, n], v)),
        za: fc.integer({ min: 0, max: 255 }),
        zb: fc.array(fc.integer({ min: -128, max: 127 }), { minLength: n, maxLength: n }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ a, b, za, zb }) => {
        const [m, k] = a.shape as [number, number];
        const n = b.shape[1]!;
        const y = run('MatMulInteger', [a, b, t('u8', [], [za]), t('i8', [n], zb)]);
        const want = Array.from({ length: m * n }, (_, o) => {
          let s = 0;
          for (let p = 0; p < k; p++) s += (a.data[Math.floor(o / n) * k + p]! - za) * (b.data[p * n + (o % n)]! - zb[o % n]!);
          return s;
        });
        expect(values(y)).toEqual(want);
      }),
      { numRuns: 100 },
    );
  });
});
