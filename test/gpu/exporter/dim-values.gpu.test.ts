// DimValues and Arange on the adapter: a symbolic dim's run-time value as data, and the symbolic-length Range,
// from one artifact at several sizes (1, ragged, the upper bound). Arange's f32 form rounds as ONNX's Range
// does: one f32 multiply and one f32 add per element, which a delta of 0.1 makes visible. The last DimValues
// entry's canonical form is seq + 15 + ((-3*batch)//2), a floor division of a negative number, which WGSL's
// truncating i32 division would get wrong.
import { describe, expect, it } from 'vitest';
import { parseKir } from '../../../ir/index.js';
import { expectGraphRuns, values } from './harness.js';

describe('DimValues and Arange on the adapter', () => {
  it('evaluate the run-time dims, at sizes 1, ragged and the maximum', async () => {
    const g = parseKir(`graph @g(%x: f32[batch,seq]) {
  symbol batch in 1..8
  symbol seq in 1..300
  %n = DimValues() {values=[batch, 2*seq, ((seq+1)//2), 5, ((2*seq-3*batch+30)//2)], scalar=0}
  %s = DimValues() {values=[batch*seq], scalar=1}
  %p = Arange() {count=[seq], start=3, delta=1, dtype="i32"}
  %q = Arange() {count=[seq], start=0.3, delta=0.1, dtype="f32"}
  %y = Relu(%x)
  return %n, %s, %p, %q, %y
}`);
    const cases = [
      [1, 1],
      [3, 77],
      [8, 300],
    ].map(([b, s], i) => ({ x: values([b!, s!], i) }));
    const shapes = await expectGraphRuns(g, cases, { name: 'dim-values', tolerance: () => [0, 0] });
    expect(shapes.map((c) => c[2])).toEqual([[1], [77], [300]]);
  }, 120_000);
});
