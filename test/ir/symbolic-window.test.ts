// Window geometry (Conv and the pools) over symbolic spatial dims: the output sizes, and the pads auto_pad SAME
// derives, are dim expressions that evaluate, at every size, to exactly what the static inference gives there
// (property tests over kernels, strides, dilations, pads, auto_pad and ceil_mode); plus the symbolic window's
// fit check over a symbol's bounds, and the interpreter running a symbolic graph.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, type Dim, OpError, evalDim, interpret, makeTensor, parseKir, tensorType } from '../../ir/index.js';
import { checkWindowFits, resolveWindow } from '../../ir/ops/shape-util.js';
import { infer, reader } from './op-harness.js';

const AUTO_PADS = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'] as const;

/** One spatial dim's window attributes (pads only with NOTSET, as ONNX requires). */
const arbWindow = fc
  .record({
    kernel: fc.integer({ min: 1, max: 6 }),
    stride: fc.integer({ min: 1, max: 5 }),
    dilation: fc.integer({ min: 1, max: 3 }),
    pads: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })),
    autoPad: fc.constantFrom(...AUTO_PADS),
    ceil: fc.boolean(),
  })
  .map((w) => ({ ...w, pads: w.autoPad === 'NOTSET' ? w.pads : ([0, 0] as [number, number]) }));

type Win = typeof arbWindow extends fc.Arbitrary<infer T> ? T : never;

/** Pool attributes over two spatial dims [h, 7]: the symbolic one and a static one alongside. */
const poolAttrs = (w: Win): Attrs => ({
  kernel_shape: [w.kernel, 2],
  strides: [w.stride, 1],
  dilations: [w.dilation, 1],
  auto_pad: w.autoPad,
  ...(w.autoPad === 'NOTSET' ? { pads: [w.pads[0], 0, w.pads[1], 1] } : {}),
  ceil_mode: w.ceil ? 1 : 0,
});

/** The static result at `h`, or undefined where the static inference refuses (the window does not fit). */
function staticOr(f: () => readonly Dim[]): readonly Dim[] | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpError && /window does not fit/.test(e.message)) return undefined;
    throw e;
  }
}

const at = (dims: readonly Dim[], h: number): number[] => dims.map((d) => evalDim(d, { h }));

describe('symbolic window geometry', () => {
  it('pool output sizes and SAME pads evaluate to the static inference at every size', () => {
    fc.assert(
      fc.property(arbWindow, fc.constantFrom('MaxPool', 'AveragePool', 'LpPool'), (w, op) => {
        const attrs = poolAttrs(w);
        const sym = infer(op, [tensorType('f32', ['n', 3, 'h', 7])], attrs)[0]!.shape;
        const win = resolveWindow(op, reader(op, attrs), ['h', 7], [w.kernel, 2], w.ceil);
        for (let h = 1; h <= 60; h++) {
          const want = staticOr(() => infer(op, [tensorType('f32', [2, 3, h, 7])], attrs)[0]!.shape);
          if (!want) continue;
          expect(at(sym.slice(1), h), `${op} ${JSON.stringify(attrs)} at h=${h}`).toEqual(want.slice(1));
          const pads = resolveWindow(op, reader(op, attrs), [h, 7], [w.kernel, 2], w.ceil).pads;
          expect(at(win.pads, h), `pads of ${JSON.stringify(attrs)} at h=${h}`).toEqual(pads);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('conv output sizes evaluate to the static inference at every size, both spatial dims symbolic', () => {
    fc.assert(
      fc.property(arbWindow, arbWindow, (a, b) => {
        const autoPad = a.autoPad;
        const attrs: Attrs = {
          strides: [a.stride, b.stride],
          dilations: [a.dilation, b.dilation],
          auto_pad: autoPad,
          ...(autoPad === 'NOTSET' ? { pads: [a.pads[0], b.pads[0], a.pads[1], b.pads[1]] } : {}),
        };
        const wt = tensorType('f32', [4, 2, a.kernel, b.kernel]);
        const sym = infer('Conv', [tensorType('f32', ['n', 2, 'h', 'w']), wt], attrs)[0]!.shape;
        expect(sym.slice(0, 2)).toEqual(['n', 4]);
        for (let h = 1; h <= 24; h += 1)
          for (let v = 1; v <= 24; v += 5) {
            const want = staticOr(() => infer('Conv', [tensorType('f32', [1, 2, h, v]), wt], attrs)[0]!.shape);
            if (want) expect(sym.slice(2).map((d) => evalDim(d, { h, w: v })), `${JSON.stringify(attrs)} at ${h}x${v}`).toEqual(want.slice(2));
          }
      }),
      { numRuns: 200 },
    );
  });

  it('writes output sizes as expressions over the symbol', () => {
    const conv = (attrs: Attrs, k = 3) => infer('Conv', [tensorType('f32', ['n', 2, 'h', 'w']), tensorType('f32', [4, 2, k, k])], attrs)[0]!.shape;
    expect(conv({ pads: [1, 1, 1, 1] })).toEqual(['n', 4, 'h', 'w']);
    expect(conv({})).toEqual(['n', 4, 'h-2', 'w-2']);
    // Canonical floor divisions (ir/dim.ts): (h-1)//2 + 1 and the SAME form ceil(h/2) are one atom.
    expect(conv({ strides: [2, 2], pads: [1, 1, 1, 1] })).toEqual(['n', 4, '((h+1)//2)', '((w+1)//2)']);
    expect(conv({ strides: [2, 2], auto_pad: 'SAME_UPPER' })).toEqual(['n', 4, '((h+1)//2)', '((w+1)//2)']);
    expect(infer('MaxPool', [tensorType('f32', ['n', 2, 'h', 'w'])], { kernel_shape: [2, 2], strides: [2, 2] })[0]!.shape).toEqual([
      'n',
      2,
      '(h//2)',
      '(w//2)',
    ]);
    // SAME with a stride above the dilated kernel: the pad is 0 for a 1-wide kernel, else a product of divisions.
    const win = (k: number) => resolveWindow('Conv', reader('Conv', { strides: [3], auto_pad: 'SAME_UPPER' }), ['h'], [k], false);
    expect(win(1).pads).toEqual([0, 0]);
    expect(win(2).pads.every((p) => typeof p === 'string')).toBe(true);
    expect([1, 2, 3, 4, 5].map((h) => at(win(2).pads, h))).toEqual([[0, 1], [0, 0], [0, 0], [0, 1], [0, 0]]);
  });

  it('checks that the window fits the smallest size in range, naming the symbol to raise or specialise', () => {
    const attrs = reader('MaxPool', { kernel_shape: [5], pads: [1, 0] });
    const win = resolveWindow('MaxPool', attrs, ['h'], [5], false);
    expect(() => checkWindowFits('MaxPool', attrs, win, ['h'], () => 4)).not.toThrow();
    expect(() => checkWindowFits('MaxPool', attrs, win, ['h'], () => 3)).toThrow(
      'MaxPool: window does not fit along spatial dim 0 when h = 3: pads 1 and the dilated kernel 5 need h >= 4; raise its lower bound or specialise it (--dim h=<size>)',
    );
    const same = reader('MaxPool', { kernel_shape: [5], auto_pad: 'SAME_LOWER' });
    expect(() => checkWindowFits('MaxPool', same, resolveWindow('MaxPool', same, ['h'], [5], false), ['h'], () => 1)).not.toThrow();
  });

  it('keeps static errors and the refusals of symbolic channels', () => {
    expect(() => infer('Conv', [tensorType('f32', [1, 3, 2, 5]), tensorType('f32', [4, 3, 3, 3])])).toThrow('Conv: window does not fit along spatial dim 0');
    expect(() => infer('Conv', [tensorType('f32', [1, 'c', 'h', 5]), tensorType('f32', [4, 3, 3, 3])])).toThrow('Conv needs static shape: channel dim of X');
    expect(() => infer('MaxPool', [tensorType('f32', [1, 3, 'h', 5])], { kernel_shape: [2] })).toThrow('MaxPool: kernel_shape must have 2 entries');
  });

  it('the interpreter runs a symbolic conv and pool graph at the sizes it is given', () => {
    const g = parseKir(`graph @g(%x: f32[n,1,h,w], %k: f32[2,1,3,3]) {
  symbol n in 1..2
  symbol h in 3..9
  symbol w in 3..9
  %y = Conv(%x, %k) {strides = [2,2], pads = [1,1,1,1]} : f32[n,2,((h-1)//2)+1,((w-1)//2)+1]
  %p = MaxPool(%y) {kernel_shape = [2,2], ceil_mode = 1} : f32[n,2,((h-1)//2),((w-1)//2)]
  return %p
}`);
    const x = makeTensor('f32', [1, 1, 5, 4], (i) => i);
    const k = makeTensor('f32', [2, 1, 3, 3], (i) => (i % 3) - 1);
    expect(interpret(g, { x, k }).p!.shape).toEqual([1, 2, 2, 1]);
  });
});
