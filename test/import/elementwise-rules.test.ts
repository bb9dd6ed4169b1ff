// Importer rules for the elementwise math, activation and integer ops (ops/activations.ts and ops/elementwise.ts):
// the versions each op is mapped for, the ONNX defaults of absent attributes, PRelu's one-way broadcast, Clip
// with bounds computed at run time, Pow over mixed dtypes, Mod, BitShift and the bitwise ops, each checked on
// values through the reference interpreter.
import { describe, expect, it } from 'vitest';
import { OnnxImportError, OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import { type DType, type Tensor, makeTensor } from '../../ir/index.js';
import { DT, attrFloat, attrInt, attrString, encodeModel, f32Tensor, i64Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

/** A graph input: its ONNX element type and the value it is run with (as kiln holds it). */
type Input = readonly [onnxType: number, value: Tensor];

function bytes(opset: number, nodes: Obj[], inputs: Record<string, Input>, outputs: Record<string, number>, initializers: Obj[] = []): Uint8Array {
  return encodeModel(
    model({
      opset,
      nodes,
      inputs: Object.entries(inputs).map(([n, [type, t]]) => valueInfo(n, type, t.shape)),
      outputs: Object.entries(outputs).map(([n, type]) => valueInfo(n, type)),
      initializers,
    }),
  );
}

/** Import and interpret; the output values and the IR ops the graph holds. */
function run(opset: number, nodes: Obj[], inputs: Record<string, Input>, outputs: Record<string, number>, initializers: Obj[] = []) {
  const { graph } = importOnnx(bytes(opset, nodes, inputs, outputs, initializers));
  const values = interpret(graph, Object.fromEntries(Object.entries(inputs).map(([n, [, t]]) => [n, t])));
  const out = Object.keys(outputs).map((o) => values[o]!);
  return { graph, ops: graph.nodes.map((n) => n.op), out, values: out.map((t) => [...t.data]) };
}

function importError(opset: number, nodes: Obj[], inputs: Record<string, Input>, outputs: Record<string, number>, initializers: Obj[] = []): OnnxImportError {
  try {
    importOnnx(bytes(opset, nodes, inputs, outputs, initializers));
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxImportError);
    return e as OnnxImportError;
  }
  throw new Error('expected an import error');
}

const t = (dtype: DType, values: readonly number[], shape: readonly number[] = [values.length]): Tensor => makeTensor(dtype, shape, values);
const fx = (values: readonly number[], shape?: readonly number[]): Input => [DT.FLOAT, t('f32', values, shape)];
const unary = (op: string, attrs: Record<string, Obj> = {}) => [node(op, ['x'], ['y'], attrs)];

describe('versions', () => {
  // [op, first opset]: mapped from there to the newest, and not below.
  const FIRST: readonly [string, number][] = [
    ['Sin', 7], ['Acos', 7], ['Sinh', 9], ['Atanh', 9], ['Sign', 9], ['IsNaN', 9], ['IsInf', 10], ['HardSigmoid', 6], ['HardSwish', 14],
    ['Elu', 6], ['Selu', 6], ['Celu', 12], ['Softplus', 1], ['Softsign', 1], ['Mish', 18], ['ThresholdedRelu', 10], ['Shrink', 9], ['Swish', 24],
  ];
  it.each(FIRST)('%s maps from opset %i to the newest, to the IR op of its name', (op, first) => {
    for (const opset of [Math.max(first, 7), 22, 28].filter((v) => v >= first))
      expect(run(opset, unary(op), { x: fx([0.5]) }, { y: op.startsWith('Is') ? DT.BOOL : DT.FLOAT }).ops).toEqual([op]);
    if (first > 7) {
      const e = importError(first - 1, unary(op), { x: fx([0.5]) }, { y: DT.FLOAT });
      expect(e).toBeInstanceOf(OnnxUnsupportedError);
      expect(e.message).toContain(`${op} in opset ${first - 1} is not mapped`);
    }
  });

  it('refuses models below opset 7 (PRelu-6 and older forms are out of range)', () => {
    const e = importError(6, [node('PRelu', ['x', 's'], ['y'])], { x: fx([-1, 2]), s: fx([0.5]) }, { y: DT.FLOAT });
    expect((e as OnnxUnsupportedError).category).toBe('opset');
    expect(e.message).toContain('kiln imports opsets 7 to');
  });
});

describe('attributes: ONNX defaults when absent, copied when given', () => {
  it('HardSigmoid (alpha 0.2, beta 0.5), Elu (alpha 1), Selu (alpha 1.6733, gamma 1.0507)', () => {
    expect(run(7, unary('HardSigmoid'), { x: fx([1, -3]) }, { y: DT.FLOAT }).values[0]).toEqual([Math.fround(0.7), 0]);
    expect(run(22, unary('HardSigmoid', { alpha: attrFloat(0.5), beta: attrFloat(0.6) }), { x: fx([-1, 0, 1]) }, { y: DT.FLOAT }).values[0]).toEqual(
      [-0.5 + Math.fround(0.6), Math.fround(0.6), 1].map(Math.fround), // ONNX attributes are float32
    );
    expect(run(7, unary('Elu'), { x: fx([-1]) }, { y: DT.FLOAT }).values[0]).toEqual([Math.fround(Math.expm1(-1))]);
    expect(run(7, unary('Elu', { alpha: attrFloat(2) }), { x: fx([-1]) }, { y: DT.FLOAT }).values[0]).toEqual([Math.fround(2 * Math.expm1(-1))]);
    const selu = run(7, unary('Selu'), { x: fx([-1, 1]) }, { y: DT.FLOAT }).values[0]!;
    expect(selu[0]).toBeCloseTo(-1.1113307, 6);
    expect(selu[1]).toBeCloseTo(1.0507009, 6);
    expect(run(22, unary('Selu', { alpha: attrFloat(2), gamma: attrFloat(3) }), { x: fx([1]) }, { y: DT.FLOAT }).graph.nodes[0]!.attrs).toEqual({
      alpha: 2,
      gamma: 3,
    });
  });

  it('ThresholdedRelu, Shrink, Celu, Swish, IsInf', () => {
    expect(run(10, unary('ThresholdedRelu'), { x: fx([1, 1.5]) }, { y: DT.FLOAT }).values[0]).toEqual([0, 1.5]);
    expect(run(9, unary('Shrink'), { x: fx([0.5, -0.75]) }, { y: DT.FLOAT }).values[0]).toEqual([0, -0.75]);
    expect(run(9, unary('Shrink', { lambd: attrFloat(1), bias: attrFloat(0.5) }), { x: fx([2, -2]) }, { y: DT.FLOAT }).values[0]).toEqual([1.5, -1.5]);
    expect(run(12, unary('Celu', { alpha: attrFloat(2) }), { x: fx([-2]) }, { y: DT.FLOAT }).values[0]).toEqual([Math.fround(2 * Math.expm1(-1))]);
    expect(run(24, unary('Swish'), { x: fx([0]) }, { y: DT.FLOAT }).values[0]).toEqual([0]);
    expect(run(24, unary('Swish', { alpha: attrFloat(0) }), { x: fx([4]) }, { y: DT.FLOAT }).values[0]).toEqual([2]);
    const inf = { x: fx([Infinity, -Infinity, NaN]) };
    expect(run(10, unary('IsInf'), inf, { y: DT.BOOL }).values[0]).toEqual([1, 1, 0]);
    expect(run(20, unary('IsInf', { detect_positive: attrInt(0) }), inf, { y: DT.BOOL }).values[0]).toEqual([0, 1, 0]);
  });

  it('rejects attributes the op does not have', () => {
    const e = importError(22, unary('Softplus', { alpha: attrFloat(2) }), { x: fx([1]) }, { y: DT.FLOAT });
    expect(e.message).toContain("Softplus attribute 'alpha'");
  });
});

describe('PRelu', () => {
  it('broadcasts the slope to X (per-channel slope [C, 1, 1]) at every version', () => {
    const x = fx([-1, 2, -3, 4], [1, 2, 2, 1]);
    for (const opset of [7, 9, 16]) {
      const r = run(opset, [node('PRelu', ['x', 's'], ['y'])], { x, s: fx([0.5, 2], [2, 1, 1]) }, { y: DT.FLOAT });
      expect(r.values[0]).toEqual([-0.5, 2, -6, 4]);
    }
  });

  it('refuses a slope that would broadcast X', () => {
    const e = importError(16, [node('PRelu', ['x', 's'], ['y'])], { x: fx([-1, 2, 3]), s: fx([1, 2, 3, 4, 5, 6], [2, 3]) }, { y: DT.FLOAT });
    expect(e.message).toContain("PRelu slope of shape [2,3] does not broadcast to X's shape [3] (ONNX broadcasts the slope to X only)");
  });
});

describe('Clip with bounds computed at run time', () => {
  const x = fx([-5, -1, 0.5, 3, NaN]);
  it('becomes Max(x, min) then Min(., max): exact, NaN propagates, min > max gives max', () => {
    const both = [node('Clip', ['x', 'lo', 'hi'], ['y'])];
    const r = run(13, both, { x, lo: fx([-2], []), hi: fx([2], []) }, { y: DT.FLOAT });
    expect(r.ops).toEqual(['Max', 'Min']);
    expect(r.values[0]).toEqual([-2, -1, 0.5, 2, NaN]);
    expect(run(11, both, { x, lo: fx([3], []), hi: fx([1], []) }, { y: DT.FLOAT }).values[0]).toEqual([1, 1, 1, 1, NaN]);
    expect(run(13, both, { x, lo: fx([NaN], []), hi: fx([2], []) }, { y: DT.FLOAT }).values[0]).toEqual([NaN, NaN, NaN, NaN, NaN]);
  });

  it('keeps known bounds as attributes, in min-then-max order', () => {
    const r = run(13, [node('Clip', ['x', 'lo', 'hi'], ['y'])], { x, hi: fx([0], [1]) }, { y: DT.FLOAT }, [f32Tensor('lo', [], [1])]);
    expect(r.ops).toEqual(['Clip', 'Min']);
    expect(r.values[0]).toEqual([0, 0, 0, 0, NaN]); // min 1 > max 0: max
    const onlyMax = run(12, [node('Clip', ['x', '', 'hi'], ['y'])], { x, hi: fx([0], []) }, { y: DT.FLOAT });
    expect(onlyMax.ops).toEqual(['Min']);
    const known = run(12, [node('Clip', ['x', 'lo'], ['y'])], { x }, { y: DT.FLOAT }, [f32Tensor('lo', [], [0])]);
    expect(known.graph.nodes.map((n) => [n.op, n.attrs])).toEqual([['Clip', { min: 0 }]]);
  });

  it('works on integers and refuses a bound that is not a scalar', () => {
    const i32 = (v: number[], shape?: number[]): Input => [DT.INT32, t('i32', v, shape)];
    const r = run(13, [node('Clip', ['x', 'lo', 'hi'], ['y'])], { x: i32([-7, 0, 9]), lo: i32([-3], []), hi: i32([4], []) }, { y: DT.INT32 });
    expect(r.values[0]).toEqual([-3, 0, 4]);
    const e = importError(13, [node('Clip', ['x', 'lo'], ['y'])], { x, lo: fx([1, 2]) }, { y: DT.FLOAT });
    expect(e.message).toContain("Clip min (input 'lo') must be a scalar, got shape [2]");
  });
});

describe('Pow over mixed dtypes (opset 12 on)', () => {
  const pow = [node('Pow', ['x', 'e'], ['y'])];
  it('integer base and exponent of one dtype: integer Pow', () => {
    const r = run(15, pow, { x: [DT.INT32, t('i32', [1, 2, 3])], e: [DT.INT32, t('i32', [4, 5, 6])] }, { y: DT.INT32 });
    expect([r.ops, r.values[0]]).toEqual([['Pow'], [1, 32, 729]]);
    const wide = run(15, pow, { x: [DT.INT64, t('i32', [-3])], e: [DT.INT64, t('i32', [3])] }, { y: DT.INT64 });
    expect(wide.values[0]).toEqual([-27]);
  });

  it('integer base, float exponent: raised in f32 and truncated (numpy casts the float result)', () => {
    const r = run(15, pow, { x: [DT.INT32, t('i32', [1, 2, 3, 10])], e: [DT.FLOAT, t('f32', [4, 5, 0.5, -1])] }, { y: DT.INT32 });
    expect(r.ops).toEqual(['Cast', 'Pow', 'Cast']);
    expect(r.values[0]).toEqual([1, 32, 1, 0]);
  });

  it('two integer dtypes meet in i32 (u32 for an unsigned exponent) and wrap to the base dtype', () => {
    const r = run(15, pow, { x: [DT.UINT8, t('u8', [3, 2, 5])], e: [DT.INT32, t('i32', [5, 9, 0])] }, { y: DT.UINT8 });
    expect(r.out[0]!.dtype).toBe('u8');
    expect(r.values[0]).toEqual([243, 0, 1]);
    const u = run(15, pow, { x: [DT.INT8, t('i8', [-2, 3])], e: [DT.UINT32, t('u32', [7, 5])] }, { y: DT.INT8 });
    expect(u.ops).toEqual(['Cast', 'Pow', 'Cast']); // i8 base to u32, the u32 exponent as it is
    expect(u.values[0]).toEqual([-128, -13]); // 243 wraps to -13 in i8
  });

  it('float base: the exponent is cast to the base dtype, a known int64 one at import', () => {
    const r = run(13, pow, { x: fx([2, 9]) }, { y: DT.FLOAT }, [i64Tensor('e', [2], [3, -1])]);
    expect(r.values[0]).toEqual([8, Math.fround(1 / 9)]);
    expect(r.ops).toEqual(['Pow']);
  });
});

describe('integer ops', () => {
  const ints = (a: number[], b: number[], type: number = DT.INT32, dt: DType = 'i32') => ({ a: [type, t(dt, a)] as Input, b: [type, t(dt, b)] as Input });

  it('Mod: fmod 0 (the default) and 1 on integers; floats need fmod=1', () => {
    const { a, b } = ints([-4, 7, 5], [2, -3, 0]);
    expect(run(10, [node('Mod', ['a', 'b'], ['y'])], { a, b }, { y: DT.INT32 }).values[0]).toEqual([0, -2, 0]);
    expect(run(13, [node('Mod', ['a', 'b'], ['y'], { fmod: attrInt(1) })], { a, b }, { y: DT.INT32 }).values[0]).toEqual([0, 1, 0]);
    const f = { a: fx([-4.5]), b: fx([2]) };
    expect(run(13, [node('Mod', ['a', 'b'], ['y'], { fmod: attrInt(1) })], f, { y: DT.FLOAT }).values[0]).toEqual([-0.5]);
    expect(importError(13, [node('Mod', ['a', 'b'], ['y'])], f, { y: DT.FLOAT }).message).toContain('Mod on f32 inputs needs fmod=1');
    expect(importError(13, [node('Mod', ['a', 'b'], ['y'], { fmod: attrInt(3) })], { a, b }, { y: DT.INT32 }).message).toContain('fmod must be 0 or 1, got 3');
  });

  it('BitShift: direction picks the IR op; unsigned only; direction required', () => {
    const { a, b } = ints([16, 4, 255], [1, 2, 1], DT.UINT8, 'u8');
    const left = run(11, [node('BitShift', ['a', 'b'], ['y'], { direction: attrString('LEFT') })], { a, b }, { y: DT.UINT8 });
    expect([left.ops, left.values[0]]).toEqual([['BitShiftLeft'], [32, 16, 254]]);
    const right = run(18, [node('BitShift', ['a', 'b'], ['y'], { direction: attrString('RIGHT') })], { a, b }, { y: DT.UINT8 });
    expect([right.ops, right.values[0]]).toEqual([['BitShiftRight'], [8, 1, 127]]);
    const none = importError(11, [node('BitShift', ['a', 'b'], ['y'])], { a, b }, { y: DT.UINT8 });
    expect(none.message).toContain("BitShift needs attribute direction 'LEFT' or 'RIGHT', got none");
    const signed = ints([1], [1]);
    const e = importError(11, [node('BitShift', ['a', 'b'], ['y'], { direction: attrString('LEFT') })], signed, { y: DT.INT32 });
    expect(e.message).toContain('BitShift takes unsigned integers (uint8 to uint64), got i32');
  });

  it('bitwise ops from opset 18; BitwiseNot refuses u32, which may be a widened uint16', () => {
    const { a, b } = ints([12, -1], [10, 5]);
    expect(run(18, [node('BitwiseAnd', ['a', 'b'], ['y'])], { a, b }, { y: DT.INT32 }).values[0]).toEqual([8, 5]);
    expect(run(18, [node('BitwiseOr', ['a', 'b'], ['y'])], { a, b }, { y: DT.INT32 }).values[0]).toEqual([14, -1]);
    expect(run(18, [node('BitwiseXor', ['a', 'b'], ['y'])], { a, b }, { y: DT.INT32 }).values[0]).toEqual([6, -6]);
    expect(run(18, [node('BitwiseNot', ['a'], ['y'])], { a: [DT.UINT8, t('u8', [0, 200])] }, { y: DT.UINT8 }).values[0]).toEqual([255, 55]);
    expect(run(18, [node('BitwiseNot', ['a'], ['y'])], { a: [DT.INT16, t('i32', [0, -300])] }, { y: DT.INT16 }).values[0]).toEqual([-1, 299]);
    const e = importError(18, [node('BitwiseNot', ['a'], ['y'])], { a: [DT.UINT16, t('u32', [1])] }, { y: DT.UINT16 });
    expect([(e as OnnxUnsupportedError).category, e.message]).toEqual(['dtype', expect.stringContaining('BitwiseNot on u32: kiln holds uint16 as u32')]);
    expect(importError(17, [node('BitwiseAnd', ['a', 'b'], ['y'])], { a, b }, { y: DT.INT32 }).message).toContain('BitwiseAnd in opset 17 is not mapped');
  });

  it('Not, And, Or and Xor stay Equal/Where compositions', () => {
    const p = [DT.BOOL, t('bool', [1, 1, 0, 0])] as Input;
    const q = [DT.BOOL, t('bool', [1, 0, 1, 0])] as Input;
    expect(run(7, [node('Xor', ['p', 'q'], ['y'])], { p, q }, { y: DT.BOOL }).values[0]).toEqual([0, 1, 1, 0]);
    expect(run(7, [node('Not', ['p'], ['y'])], { p }, { y: DT.BOOL }).values[0]).toEqual([0, 0, 1, 1]);
  });
});
