// DimValues and Arange: values made from symbolic dims (ir/ops/dim-values.ts). They print and parse in .kir, the
// interpreter evaluates them under the run's symbol values, and fold-constants leaves them alone (their value is
// only known at run time, though their shapes may be static).
import { describe, expect, it } from 'vitest';
import { interpret, parseKir, printGraph, verify } from '../../ir/index.js';
import { foldConstants, runPipeline } from '../../passes/index.js';

const KIR = `graph @g(%x: f32[batch,seq]) {
  symbol batch in 1..8
  symbol seq in 1..64
  %n = DimValues() {values=[batch, 2*seq, 5], scalar=0}
  %s = DimValues() {values=[seq], scalar=1}
  %p = Arange() {count=[seq], start=0, delta=1, dtype="i32"}
  %q = Arange() {count=[seq], start=0.5, delta=0.25, dtype="f32"}
  return %n, %s, %p, %q
}
`;

describe('DimValues and Arange', () => {
  it('print and parse back, and evaluate under the bound symbols', () => {
    const g = parseKir(KIR);
    expect(printGraph(parseKir(printGraph(g)))).toBe(printGraph(g));
    const x = { dtype: 'f32' as const, shape: [3, 5], data: new Float64Array(15) };
    const out = interpret(g, { x });
    expect(Array.from(out.n!.data)).toEqual([3, 10, 5]);
    expect(out.n!.shape).toEqual([3]);
    expect(out.s!.shape).toEqual([]);
    expect(Array.from(out.s!.data)).toEqual([5]);
    expect(Array.from(out.p!.data)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(out.q!.data)).toEqual([0.5, 0.75, 1, 1.25, 1.5]);
  });

  it('are not folded into constants', () => {
    const g = parseKir(KIR);
    const folded = runPipeline(g, [foldConstants]).graph;
    expect(folded.nodes.map((n) => n.op)).toEqual(['DimValues', 'DimValues', 'Arange', 'Arange']);
  });

  it('refuse a scalar of two values and an unknown dtype', () => {
    const problems = (kir: string) => verify(parseKir(kir)).map((d) => d.message).join('\n');
    expect(problems(KIR)).toBe('');
    expect(problems(KIR.replace('values=[seq], scalar=1', 'values=[seq, 2], scalar=1'))).toMatch(/scalar=1 needs exactly one value, got 2/);
    expect(problems(KIR.replace('dtype="f32"', 'dtype="f16"'))).toMatch(/dtype must be i32 or f32, got f16/);
  });
});
