// Symbolic folding of shape arithmetic (ir/import/onnx/sym-fold.ts): integer folds as before, and the float
// chains exporters use to compute Resize sizes and scales, exact over rationals or not folded at all.
import { describe, expect, it } from 'vitest';
import { type SymTensor, foldSymbolic } from '../../ir/import/onnx/sym-fold.js';
import type { Dim } from '../../ir/index.js';

const v = (dtype: string, dims: Dim[]): SymTensor => ({ dtype, shape: [dims.length], dims });
const s = (dtype: string, d: Dim): SymTensor => ({ dtype, shape: [], dims: [d] });
const fold = (op: string, ins: (SymTensor | undefined)[], attrs: Record<string, unknown> = {}) => foldSymbolic(op, ins, attrs as never)?.[0];
/** A chain of single-input folds (Cast, Floor, ...) with their attributes. */
const chain = (t: SymTensor | undefined, ...steps: [string, Record<string, unknown>?][]) =>
  steps.reduce<SymTensor | undefined>((acc, [op, attrs]) => acc && fold(op, [acc], attrs), t);

describe('integer shape arithmetic', () => {
  it('folds as before: Mul, floor Div, Gather, Slice, Concat', () => {
    expect(fold('Mul', [v('i64', ['h', 'w']), s('i64', 2)])).toEqual(v('i64', ['2*h', '2*w']));
    expect(fold('Div', [v('i64', ['h']), s('i64', 2)])?.dims).toEqual(['(h//2)']);
    expect(fold('Div', [v('i64', ['2*h']), s('i64', 2)])?.dims).toEqual(['h']);
    expect(fold('Gather', [v('i64', ['n', 3, 'h', 'w']), s('i64', -1)])).toEqual(s('i64', 'w'));
    expect(fold('Slice', [v('i64', ['n', 3, 'h', 'w'])], { starts: [2], ends: [4] })?.dims).toEqual(['h', 'w']);
    expect(fold('Concat', [v('i64', ['n', 3]), v('i64', ['2*h', '2*w'])])?.dims).toEqual(['n', 3, '2*h', '2*w']);
    expect(fold('Cast', [v('i64', ['h'])], { to: 'i32' })).toEqual(v('i32', ['h']));
    expect(fold('Div', [v('i64', ['h']), v('i64', ['w'])])).toBeUndefined();
  });
});

describe('float shape arithmetic', () => {
  it("PyTorch's upsample sizes: Cast(float) -> Mul(2.0) -> Cast(int64), with or without Floor", () => {
    const hw = chain(v('i64', ['h', 'w']), ['Cast', { to: 'f32' }]);
    expect(hw).toEqual(v('f32', ['h', 'w']));
    const scaled = fold('Mul', [hw, s('f32', 2)]);
    expect(scaled).toEqual(v('f32', ['2*h', '2*w']));
    expect(chain(scaled, ['Cast', { to: 'i64' }])).toEqual(v('i64', ['2*h', '2*w']));
    expect(chain(scaled, ['Floor'], ['Cast', { to: 'i64' }])).toEqual(v('i64', ['2*h', '2*w']));
  });

  it('a non-integral scale floors (or ceils) where a Floor, Ceil or Cast to int follows', () => {
    const h = chain(s('i64', 'h'), ['Cast', { to: 'f32' }]);
    const half = fold('Mul', [h, s('f32', 0.5)]);
    expect(half?.den).toEqual([2]);
    expect(chain(half, ['Floor'])?.dims).toEqual(['(h//2)']);
    expect(chain(half, ['Ceil'])?.dims).toEqual(['((h+1)//2)']);
    expect(chain(half, ['Cast', { to: 'i64' }])).toEqual(s('i64', '(h//2)'));
    expect(chain(fold('Mul', [h, s('f32', 1.5)]), ['Floor'], ['Cast', { to: 'i64' }])).toEqual(s('i64', '((3*h)//2)'));
    // Div by an integer-valued float: exact when it divides, else floored by the consumer.
    expect(chain(fold('Div', [fold('Mul', [h, s('f32', 4)]), s('f32', 2)]), ['Cast', { to: 'i64' }])?.dims).toEqual(['2*h']);
    expect(chain(fold('Div', [h, s('f32', 3)]), ['Floor'])?.dims).toEqual(['(h//3)']);
    // Rationals add over a common denominator: h/2 + h/2 is h again.
    expect(fold('Add', [half, half])).toEqual(s('f32', 'h'));
    expect(fold('Sub', [fold('Mul', [h, s('f32', 1.5)]), half])).toEqual(s('f32', 'h'));
  });

  it("tf2onnx's scales = Cast(sizes) / Cast(Shape(x)) divide exactly to numbers", () => {
    const sizes = chain(v('i64', ['n', 3, '2*h', '2*w']), ['Cast', { to: 'f32' }]);
    const shape = chain(v('i64', ['n', 3, 'h', 'w']), ['Cast', { to: 'f32' }]);
    expect(fold('Div', [sizes, shape])).toEqual(v('f32', [1, 1, 2, 2]));
    // Not an exact quotient: the importer then refuses, naming the value.
    expect(fold('Div', [chain(v('i64', [64]), ['Cast', { to: 'f32' }]), chain(v('i64', ['h']), ['Cast', { to: 'f32' }])])).toBeUndefined();
  });

  it('refuses what float arithmetic would not give exactly', () => {
    const h = chain(s('i64', 'h'), ['Cast', { to: 'f32' }]);
    // 0.1 and 1/3 are not multiples of 1/256: the model's float product is not the rational one.
    expect(fold('Mul', [h, s('f32', Math.fround(0.1))])).toBeUndefined();
    expect(fold('Mul', [h, s('f32', Math.fround(1 / 3))])).toBeUndefined();
    expect(fold('Div', [h, s('f32', 0)])).toBeUndefined();
    expect(fold('Div', [h, s('f32', -2)])).toBeUndefined();
    // A value not yet whole does not travel through movement ops (they carry no denominators).
    const half = fold('Mul', [h, s('f32', 0.5)]);
    expect(fold('Unsqueeze', [half])).toBeUndefined();
    // Float to anything but int or float stays unfolded.
    expect(fold('Cast', [h], { to: 'bool' })).toBeUndefined();
  });
});
