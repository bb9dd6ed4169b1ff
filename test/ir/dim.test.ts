// Symbolic dim expressions (ir/dim.ts): canonical forms, arithmetic, evaluation against random values, bounds, and
// their round trip through .kir (types and 'dims' attributes).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DimError,
  canonicalDim,
  dimAdd,
  dimCeilDiv,
  dimDivExact,
  dimFloorDiv,
  dimMul,
  dimPostfix,
  dimProduct,
  dimRange,
  dimSub,
  dimSymbols,
  evalDim,
} from '../../ir/dim.js';
import { interpret } from '../../ir/interp.js';
import '../../ir/ops/index.js';
import { parseKir } from '../../ir/parse.js';
import { printGraph } from '../../ir/print.js';
import type { Dim } from '../../ir/shape.js';
import { makeTensor } from '../../ir/tensor.js';

describe('dim expressions', () => {
  it('have one canonical form per polynomial', () => {
    expect(dimMul('sequence', 'batch')).toBe('batch*sequence');
    expect(dimMul(2, 'sequence')).toBe('2*sequence');
    expect(dimAdd('s', 1)).toBe('s+1');
    expect(dimAdd(1, 's')).toBe('s+1');
    expect(dimSub(dimAdd('a', 2), 2)).toBe('a');
    expect(dimSub('a', 'a')).toBe(0);
    expect(dimProduct(['a', 1, 3, 'b'])).toBe('3*a*b');
    expect(canonicalDim('sequence*batch+1')).toBe('batch*sequence+1');
    expect(canonicalDim('2*(a+b)')).toBe('2*a+2*b');
    expect(canonicalDim('b*a-a*b+4')).toBe(4);
  });

  it('divide exactly or not at all, and floor-divide into an atom', () => {
    expect(dimDivExact(dimMul('b', dimMul('s', 2)), dimMul('b', 2))).toBe('s');
    expect(dimDivExact('3*b', 2)).toBeUndefined();
    expect(dimDivExact('b+1', 'b')).toBeUndefined();
    expect(dimFloorDiv('4*w', 2)).toBe('2*w');
    expect(dimFloorDiv('w+1', 2)).toBe('((w+1)//2)');
    expect(dimMul(2, dimFloorDiv('a', 2))).toBe('2*(a//2)');
    expect(dimSub(0, dimFloorDiv('a', 2))).toBe('-(a//2)');
    expect(dimCeilDiv('w', 4)).toBe('((w+3)//4)');
    expect(dimSymbols('(w+1)//2*batch')).toEqual(['batch', 'w']);
    expect(() => canonicalDim('a+')).toThrow(DimError);
    expect(() => evalDim('a*b', { a: 2 })).toThrow('symbol b has no value');
  });

  it('evaluate like integer arithmetic on random values', () => {
    const sym = fc.constantFrom('a', 'b', 'c');
    const leaf: fc.Arbitrary<Dim> = fc.oneof(fc.integer({ min: 0, max: 9 }), sym);
    const expr = fc.letrec<{ e: [Dim, (env: Record<string, number>) => number] }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small' },
        leaf.map((d): [Dim, (env: Record<string, number>) => number] => [d, (env) => (typeof d === 'number' ? d : env[d]!)]),
        fc.tuple(tie('e'), tie('e'), fc.constantFrom('+', '-', '*')).map(([[x, fx], [y, fy], op]): [Dim, (env: Record<string, number>) => number] =>
          op === '+' ? [dimAdd(x, y), (env) => fx(env) + fy(env)] : op === '-' ? [dimSub(x, y), (env) => fx(env) - fy(env)] : [dimMul(x, y), (env) => fx(env) * fy(env)],
        ),
        fc.tuple(tie('e'), fc.integer({ min: 1, max: 5 })).map(([[x, fx], c]): [Dim, (env: Record<string, number>) => number] => [dimFloorDiv(x, c), (env) => Math.floor(fx(env) / c)]),
      ),
    })).e;
    const env = fc.record({ a: fc.integer({ min: 0, max: 50 }), b: fc.integer({ min: 0, max: 50 }), c: fc.integer({ min: 0, max: 50 }) });
    fc.assert(
      fc.property(expr, env, ([d, f], values) => {
        expect(evalDim(d, values)).toBe(f(values) + 0); // + 0: integers have no -0 (JS gives 0 * -3 = -0)
        // The printed form parses back to the same canonical dim.
        expect(canonicalDim(d)).toBe(d);
      }),
    );
  });

  it('bound their values over the symbols bounds', () => {
    const bounds = (): { min: number; max: number } => ({ min: 1, max: 8 });
    expect(dimRange('(w+1)//2*3+batch*sequence', bounds)).toEqual([4, 76]);
    expect(dimRange('2*s+1', (s) => ({ min: s === 's' ? 3 : 0, max: 10 }))).toEqual([7, 21]);
    expect(dimRange(5, bounds)).toEqual([5, 5]);
  });
});

describe('symbolic dims in .kir', () => {
  const text = `graph @g(%x: f32[b,s,4]) {
  symbol b in 1..8
  symbol s in 1..16
  %y = Reshape(%x) {shape = [b, -1, 2]} : f32[b,2*s,2]
  %z = Slice(%y) {axes = [1], ends = [s+1], starts = [1]} : f32[b,s,2]
  return %z
}`;

  it('round-trips expression dims in types and dims attributes', () => {
    const g = parseKir(text);
    expect(g.types.get('y')!.shape).toEqual(['b', '2*s', 2]);
    expect(g.nodes[0]!.attrs.shape).toEqual(['b', -1, 2]);
    expect(g.nodes[1]!.attrs.ends).toEqual(['s+1']);
    expect(printGraph(parseKir(printGraph(g)))).toBe(printGraph(g));
    expect(printGraph(g)).toContain('ends = [s+1]');
  });

  it('runs in the interpreter for any values of the symbols', () => {
    const g = parseKir(text);
    for (const [b, s] of [
      [1, 1],
      [2, 3],
    ] as const) {
      const x = makeTensor('f32', [b, s, 4], (i) => i);
      const z = interpret(g, { x }).z!;
      expect(z.shape).toEqual([b, s, 2]);
      // Row 1..s of each batch's [2s, 2] view: elements from offset 2 on.
      expect(Array.from(z.data.subarray(0, 2))).toEqual([2, 3]);
    }
  });
});

describe('dim programs for other evaluators', () => {
  /** The runtime's evaluator in miniature: the manifest's postfix programs must mean what the dim means. */
  const runPostfix = (prog: readonly (number | string)[], env: Record<string, number>): number => {
    const st: number[] = [];
    for (const t of prog) {
      if (typeof t === 'number') st.push(t);
      else if (t === '+' || t === '*' || t === '//') {
        const b = st.pop()!;
        const a = st.pop()!;
        st.push(t === '+' ? a + b : t === '*' ? a * b : Math.floor(a / b));
      } else st.push(env[t]!);
    }
    return st[0]!;
  };

  it('postfix programs evaluate like the dims', () => {
    const env = { a: 7, b: 3, w: 10 };
    for (const d of ['a', '2*a*b+1', '((w+1)//2)*3-a', '-(a//2)+b', 5, 0, '((((w+3)//4)+1)//2)'] as Dim[])
      expect(runPostfix(dimPostfix(canonicalDim(d)), env)).toBe(evalDim(canonicalDim(d), env));
  });
});
