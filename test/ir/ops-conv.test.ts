// Conv: output shapes for pads/strides/dilations/auto_pad/groups, error messages, and reference values checked
// by hand and against an independent naive 2-D convolution; plus "1x1 Conv is a MatMul over channels".
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  GraphBuilder,
  type Shape,
  interpret,
  tensorType,
  toleranceExcess,
} from '../../ir/index.js';
import { f32, infer, run } from './op-harness.js';



const convShape = (x: Shape, w: Shape, attrs: Attrs = {}): Shape =>
  infer('Conv', [tensorType('f32', x), tensorType('f32', w)], attrs)[0]!.shape;



interface Conv2dCase {
  n: number;
  c: number;
  h: number;
  w: number;
  m: number;
  group: number;
  kh: number;
  kw: number;
  pads: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
}

/** A deliberately plain 2-D convolution: every index computed from scratch, padding tested explicitly. */
function naiveConv2d(p: Conv2dCase, x: ArrayLike<number>, wt: ArrayLike<number>, bias: ArrayLike<number> | undefined) {
  const [top, left, bottom, right] = p.pads;
  const oh = Math.floor((p.h + top + bottom - (p.dilations[0] * (p.kh - 1) + 1)) / p.strides[0]) + 1;
  const ow = Math.floor((p.w + left + right - (p.dilations[1] * (p.kw - 1) + 1)) / p.strides[1]) + 1;
  const cg = p.c / p.group;
  const mg = p.m / p.group;
  const out: number[] = [];
  for (let n = 0; n < p.n; n++)
    for (let m = 0; m < p.m; m++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          let s = bias ? bias[m]! : 0;
          const g = Math.floor(m / mg);
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < p.kh; i++)
              for (let j = 0; j < p.kw; j++) {
                const iy = y * p.strides[0] - top + i * p.dilations[0];
                const ix = xo * p.strides[1] - left + j * p.dilations[1];
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
                const c = g * cg + ci;
                s += x[((n * p.c + c) * p.h + iy) * p.w + ix]! * wt[((m * cg + ci) * p.kh + i) * p.kw + j]!;
              }
          out.push(s);
        }
  return { shape: [p.n, p.m, oh, ow], values: out };
}

describe('Conv inference', () => {
  it('computes output sizes from pads, strides and dilations', () => {
    expect(convShape([1, 3, 5, 5], [4, 3, 3, 3])).toEqual([1, 4, 3, 3]);
    expect(convShape([1, 3, 5, 5], [4, 3, 3, 3], { pads: [1, 1, 1, 1] })).toEqual([1, 4, 5, 5]);
    expect(convShape([1, 3, 5, 5], [4, 3, 3, 3], { strides: [2, 2] })).toEqual([1, 4, 2, 2]);
    expect(convShape([1, 3, 5, 5], [4, 3, 3, 3], { dilations: [2, 2] })).toEqual([1, 4, 1, 1]);
    expect(convShape([1, 3, 7, 6], [4, 3, 3, 2], { pads: [0, 1, 2, 0], strides: [2, 1], dilations: [1, 2] })).toEqual([1, 4, 4, 5]);
  });

  it('resolves auto_pad', () => {
    expect(convShape([1, 1, 5, 5], [1, 1, 3, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] })).toEqual([1, 1, 3, 3]);
    expect(convShape([1, 1, 5, 6], [1, 1, 4, 4], { auto_pad: 'SAME_LOWER' })).toEqual([1, 1, 5, 6]);
    expect(convShape([1, 1, 5, 5], [1, 1, 3, 3], { auto_pad: 'VALID', strides: [2, 2] })).toEqual([1, 1, 2, 2]);
    expect(convShape([1, 1, 5, 5], [1, 1, 3, 3], { auto_pad: 'VALID', pads: [0, 0, 0, 0] })).toEqual([1, 1, 3, 3]);
  });

  it('handles groups, bias and a symbolic batch', () => {
    expect(convShape([1, 4, 5, 5], [4, 1, 3, 3], { group: 4 })).toEqual([1, 4, 3, 3]);
    expect(convShape([1, 4, 5, 5], [6, 2, 3, 3], { group: 2 })).toEqual([1, 6, 3, 3]);
    expect(convShape(['n', 3, 8, 8], [16, 3, 3, 3], { pads: [1, 1, 1, 1] })).toEqual(['n', 16, 8, 8]);
    const withBias = infer('Conv', [tensorType('f16', [2, 3, 4, 4]), tensorType('f16', [5, 3, 1, 1]), tensorType('f16', [5])]);
    expect(withBias[0]).toEqual(tensorType('f16', [2, 5, 4, 4]));
    expect(convShape([1, 2, 9], [3, 2, 3], { strides: [2] })).toEqual([1, 3, 4]); // 1-D works too
  });

  it('names what is wrong', () => {
    expect(() => convShape([1, 3, 5, 5], [4, 2, 3, 3])).toThrow('Conv: X has 3 channels, but W [4,2,3,3] with group=1 expects 2');
    expect(() => convShape([1, 4, 5, 5], [4, 1, 3, 3], { group: 3 })).toThrow('Conv: group=3 must be >= 1 and divide both');
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3])).toThrow('Conv: W must be [M, C/group, ...kernel] with the rank of X');
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3, 3], { kernel_shape: [2, 2] })).toThrow('Conv: kernel_shape [2,2] disagrees with W');
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3, 3], { auto_pad: 'SAME_UPPER', pads: [1, 1, 1, 1] })).toThrow(
      'Conv: pads [1,1,1,1] cannot be combined with auto_pad=SAME_UPPER',
    );
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3, 3], { auto_pad: 'SAME' })).toThrow('Conv: auto_pad must be one of');
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3, 3], { strides: [1] })).toThrow('Conv: strides must have 2 entries, got [1]');
    expect(() => convShape([1, 3, 5, 5], [4, 3, 3, 3], { pads: [-1, 0, 0, 0] })).toThrow('Conv: pads entries must be >= 0');
    expect(() => convShape([1, 3, 2, 5], [4, 3, 3, 3])).toThrow('Conv: window does not fit along spatial dim 0');
    expect(convShape([1, 3, 'h', 'w'], [4, 3, 3, 3])).toEqual([1, 4, 'h-2', 'w-2']); // symbolic-window.test.ts has the rest
    expect(() => convShape([1, 'c', 5, 5], [4, 3, 3, 3])).toThrow('Conv needs static shape: channel dim of X');
    expect(() => convShape([5, 5], [4, 3])).toThrow('Conv: X must be [N, C, ...spatial]');
    expect(() => infer('Conv', [tensorType('f32', [1, 3, 5, 5]), tensorType('f32', [4, 3, 3, 3]), tensorType('f32', [3])])).toThrow(
      'Conv: B must be [4] (one bias per filter), got [3]',
    );
    expect(() => infer('Conv', [tensorType('i32', [1, 3, 5, 5]), tensorType('i32', [4, 3, 3, 3])])).toThrow(
      'Conv: X must be a float tensor',
    );
  });
});

describe('Conv reference', () => {
  it('matches a hand-computed 3x3 * 2x2 with bias', () => {
    const x = f32([1, 1, 3, 3], (i) => i + 1);
    const w = f32([1, 1, 2, 2], [1, 0, 0, -1]);
    // Each output is x[i][j] - x[i+1][j+1] = -4, plus the bias.
    expect(Array.from(run('Conv', [x, w, f32([1], [0.5])]).data)).toEqual([-3.5, -3.5, -3.5, -3.5]);
  });

  it('puts the odd SAME pad at the end (UPPER) or the beginning (LOWER)', () => {
    const x = f32([1, 1, 4, 4], (i) => i);
    const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);
    const upper = run('Conv', [x, w], { auto_pad: 'SAME_UPPER' });
    const lower = run('Conv', [x, w], { auto_pad: 'SAME_LOWER' });
    expect(upper.shape).toEqual([1, 1, 4, 4]);
    expect([upper.data[0], upper.data[15]]).toEqual([0 + 1 + 4 + 5, 15]);
    expect([lower.data[0], lower.data[15]]).toEqual([0, 10 + 11 + 14 + 15]);
  });

  it('does depthwise convolution with group = channels', () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    const w = f32([2, 1, 1, 1], [2, -1]);
    expect(Array.from(run('Conv', [x, w], { group: 2 }).data)).toEqual([2, 4, 6, 8, -10, -20, -30, -40]);
  });

  it('matches a naive convolution with pads, strides, dilations and groups', () => {
    const caseArb = fc
      .record({
        n: fc.integer({ min: 1, max: 2 }),
        groupCount: fc.integer({ min: 1, max: 3 }),
        cPerGroup: fc.integer({ min: 1, max: 2 }),
        mPerGroup: fc.integer({ min: 1, max: 2 }),
        h: fc.integer({ min: 1, max: 7 }),
        w: fc.integer({ min: 1, max: 7 }),
        kh: fc.integer({ min: 1, max: 3 }),
        kw: fc.integer({ min: 1, max: 3 }),
        pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
        strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
        bias: fc.boolean(),
        seed: fc.integer(),
      })
      .map(
        (r): Conv2dCase & { bias: boolean; seed: number } => ({
          ...r,
          c: r.groupCount * r.cPerGroup,
          m: r.groupCount * r.mPerGroup,
          group: r.groupCount,
        }),
      )
      .filter(
        (p) =>
          p.h + p.pads[0] + p.pads[2] >= p.dilations[0] * (p.kh - 1) + 1 && p.w + p.pads[1] + p.pads[3] >= p.dilations[1] * (p.kw - 1) + 1,
      );
    fc.assert(
      fc.property(caseArb, (p) => {
        const rand = (k: number) => (i: number) => (((i + 1) * 2654435761 + p.seed * 97 + k) % 17) / 4 - 2;
        const x = f32([p.n, p.c, p.h, p.w], rand(1));
        const w = f32([p.m, p.c / p.group, p.kh, p.kw], rand(2));
        const b = p.bias ? f32([p.m], rand(3)) : undefined;
        const y = run('Conv', [x, w, b], { group: p.group, pads: p.pads, strides: p.strides, dilations: p.dilations });
        const want = naiveConv2d(p, x.data, w.data, b?.data);
        expect(toleranceExcess(y, f32(want.shape, want.values), 1e-6, 1e-6)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('with a 1x1 kernel equals a MatMul over channels', () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 4 }),
      m: fc.integer({ min: 1, max: 4 }),
      h: fc.integer({ min: 1, max: 4 }),
      w: fc.integer({ min: 1, max: 4 }),
      seed: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(
      fc.property(arb, ({ n, c, m, h, w, seed }) => {
        const x = f32([n, c, h, w], (i) => Math.sin(i + seed));
        const weights = f32([m, c], (i) => Math.cos(3 * i + seed));
        const g = new GraphBuilder();
        const xin = g.input('x', tensorType('f32', [n, c, h, w]));
        const conv = g.op('Conv', [xin, g.constant(f32([m, c, 1, 1], weights.data))]);
        const flat = g.op('Reshape', [xin], { shape: [n, c, h * w] });
        const mm = g.op('MatMul', [g.constant(weights), flat]); // [M,C] @ [N,C,HW] -> [N,M,HW]
        const back = g.op('Reshape', [mm], { shape: [n, m, h, w] });
        const out = interpret(g.output(conv, back).build(), { x });
        expect(toleranceExcess(out[conv]!, out[back]!, 1e-6, 1e-6)).toBe(0);
      }),
      { numRuns: 50 },
    );
  });
});
