// Broadcast index expressions, evaluated on the CPU by a tiny u32 evaluator, against the interpreter's
// broadcastOffsets (ir/ops/common.ts) for random broadcast-compatible shapes; and their simplified forms.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr } from '../../compiler/wgsl/ast.js';
import { broadcastIndex } from '../../compiler/wgsl/broadcast.js';
import { ident } from '../../compiler/wgsl/dsl.js';
import { printExpr } from '../../compiler/wgsl/print.js';
import { broadcastOffsets } from '../../ir/ops/common.js';

function evalU32(e: Expr, env: Record<string, number>): number {
  switch (e.kind) {
    case 'lit':
      return Number(e.value);
    case 'ident':
      return env[e.name]!;
    case 'binary': {
      const a = evalU32(e.lhs, env);
      const b = evalU32(e.rhs, env);
      if (e.op === '+') return a + b;
      if (e.op === '*') return a * b;
      if (e.op === '/') return Math.floor(a / b);
      if (e.op === '%') return a % b;
    }
  }
  throw new Error(`unexpected ${e.kind} in an index expression`);
}

const arbCase = fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 5 }).chain((out) =>
  fc.record({
    out: fc.constant(out),
    drop: fc.integer({ min: 0, max: out.length }),
    ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
  }),
);

describe('broadcastIndex', () => {
  it('maps every output index to the broadcast input element', () => {
    fc.assert(
      fc.property(arbCase, ({ out, drop, ones }) => {
        const input = out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
        const e = broadcastIndex(out, input, ident('i'));
        const want = broadcastOffsets(input, out);
        want.forEach((off, i) => expect(evalU32(e, { i })).toBe(off));
      }),
    );
  });

  it('simplifies common patterns', () => {
    const i = ident('i');
    expect(printExpr(broadcastIndex([3, 4], [3, 4], i))).toBe('i');
    expect(printExpr(broadcastIndex([3, 4], [], i))).toBe('0u');
    expect(printExpr(broadcastIndex([3, 4], [1, 1], i))).toBe('0u');
    expect(printExpr(broadcastIndex([3, 4], [4], i))).toBe('i % 4u');
    expect(printExpr(broadcastIndex([3, 4], [3, 1], i))).toBe('i / 4u');
    expect(printExpr(broadcastIndex([2, 3, 4], [2, 1, 4], i))).toBe('((i / 12u) * 4u) + (i % 4u)');
    expect(() => broadcastIndex([3], [4], i)).toThrow(/cannot broadcast/);
  });
});
