// Resize and CumSum with symbolic dims: one artifact per graph, run at several sizes of its symbols (1, ragged,
// the upper bound) on the adapter against the interpreter, with no pipeline, shader module, bind group or buffer
// created by run(). Resize covers `sizes` given as dims (the scale out/in known per run) and constant scales on
// symbolic axes, nearest in every nearest_mode (exact: the kernel decides ties and exact hits in integers, as the
// interpreter does), linear and cubic (rtol 1e-4: f32 weights against float64 ones), exclude_outside, and an
// output whose upper bound needs a two-dimensional dispatch. CumSum scans symbolic axes, exclusive and reverse.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { type DType, type Graph, parseKir } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';

/** Compile `g` once and run it at each size; outputs named n* (nearest) and integer ones exact, others rtol 1e-4. */
async function expectSizes(g: Graph, sizes: readonly Record<string, readonly number[]>[]): Promise<void> {
  const dtypeOf = (name: string): DType => g.types.get(name)!.dtype;
  const cases = casesOf(sizes, (name, shape, seed) => randomTensor(dtypeOf(name), shape, seed, { edges: 0 }));
  // Outputs named n* are integer-valued (nearest picks); the rest are float maths.
  await expectGraphRuns(g, cases, { name: 'sym-resize', tolerance: (name, dtype) => (dtype === 'f32' && !name.startsWith('n') ? [1e-4, 1e-5] : [0, 0]) });
}

const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];
const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];

/** A graph of Resize nodes of %x, one per [name, out shape, attributes]. */
function resizeGraph(x: string, symbols: string, nodes: readonly [string, string, string][]): Graph {
  const lines = nodes.map(([name, out, attrs]) => `  %${name} = Resize(%x) {${attrs}} : f32[${out}]`);
  return parseKir(`graph @rs(%x: f32[${x}]) {\n${symbols}\n${lines.join('\n')}\n  return ${nodes.map(([n]) => `%${n}`).join(', ')}\n}`);
}

describe('Resize with symbolic dims on the adapter', () => {
  it('nearest, every nearest_mode and transform: sizes as dims (2h+1, 7) and scales on symbolic axes', async () => {
    const nodes: [string, string, string][] = [];
    // Scale (2h+1)/h and 7/w per run: non-dyadic ratios whose coordinates hit taps and ties exactly.
    NEAREST_MODES.forEach((m, i) =>
      TRANSFORMS.forEach((t, j) => nodes.push([`n${i}_${j}`, `b,2,2*h+1,7`, `sizes = [b, 2, 2*h+1, 7], mode = "nearest", nearest_mode = "${m}", coordinate_transformation_mode = "${t}"`])),
    );
    // Constant scales: 2 and 0.5 on symbolic axes (out = 2h and h//2).
    nodes.push(['ns_up', 'b,2,2*h,2*w', `sizes = [b, 2, 2*h, 2*w], scales = [1, 1, 2, 2], mode = "nearest"`]);
    nodes.push(['ns_down', 'b,2,(h//2),(w//2)', `sizes = [b, 2, (h//2), (w//2)], scales = [1, 1, 0.5, 0.5], mode = "nearest", nearest_mode = "ceil", coordinate_transformation_mode = "half_pixel_symmetric"`]);
    nodes.push(['n_excl', 'b,2,2*h+1,7', `sizes = [b, 2, 2*h+1, 7], mode = "nearest", exclude_outside = 1`]);
    const g = resizeGraph('b,2,h,w', '  symbol b in 1..3\n  symbol h in 1..9\n  symbol w in 1..11', nodes);
    await expectSizes(g, [{ x: [1, 2, 1, 1] }, { x: [2, 2, 5, 3] }, { x: [3, 2, 9, 11] }, { x: [1, 2, 4, 7] }]);
  });

  it('linear and cubic: sizes as dims and scales (1.5, 0.5), exclude_outside, cubic_coeff_a, a static axis kept in tables', async () => {
    const nodes: [string, string, string][] = [];
    TRANSFORMS.forEach((t, j) => {
      nodes.push([`l${j}`, 'b,3,2*h+1,5', `sizes = [b, 3, 2*h+1, 5], mode = "linear", coordinate_transformation_mode = "${t}"`]);
      nodes.push([`c${j}`, 'b,3,((3*h)//2),5', `sizes = [b, 3, ((3*h)//2), 5], scales = [1, 1, 1.5, 1.25], mode = "cubic", coordinate_transformation_mode = "${t}"`]);
    });
    nodes.push(['c_excl', 'b,3,7,(h//2)', `sizes = [b, 3, 7, (h//2)], scales = [1, 1, 1.75, 0.5], mode = "cubic", exclude_outside = 1, cubic_coeff_a = -0.5`, ]);
    nodes.push(['l_down', 'b,3,3,h', `sizes = [b, 3, 3, h], mode = "linear", coordinate_transformation_mode = "align_corners"`]);
    // Antialiasing with a constant scale >= 1 widens nothing: the plain taps.
    nodes.push(['l_aa', 'b,3,2*h,4', `sizes = [b, 3, 2*h, 4], scales = [1, 1, 2, 1], mode = "linear", antialias = 1`]);
    nodes.push(['c_aa', 'b,3,2*h,4', `sizes = [b, 3, 2*h, 4], scales = [1, 1, 2, 1], mode = "cubic", antialias = 1`]);
    // Only the batch is symbolic: the resized axes keep their static tables.
    nodes.push(['l_static', 'b,3,6,6', `sizes = [b, 3, 6, 6], mode = "linear"`]);
    const g = parseKir(`graph @rs(%x: f32[b,3,h,4]) {
  symbol b in 1..2
  symbol h in 1..13
${nodes.map(([n, out, a]) => `  %${n} = Resize(%${n === 'c_excl' || n === 'l_down' ? 'y' : n === 'l_static' ? 'z' : 'x'}) {${a}} : f32[${out}]`).join('\n')}
  return ${nodes.map(([n]) => `%${n}`).join(', ')}
}`.replace('graph @rs(%x: f32[b,3,h,4])', 'graph @rs(%x: f32[b,3,h,4], %y: f32[b,3,4,h], %z: f32[b,3,4,4])'));
    await expectSizes(g, [
      { x: [1, 3, 1, 4], y: [1, 3, 4, 1], z: [1, 3, 4, 4] },
      { x: [2, 3, 13, 4], y: [2, 3, 4, 13], z: [2, 3, 4, 4] },
      { x: [1, 3, 6, 4], y: [1, 3, 4, 6], z: [1, 3, 4, 4] },
    ]);
  });

  it('an upper bound past one dispatch dimension (2-D dispatch), run at 1, ragged and the max', async () => {
    const g = resizeGraph('1,1,h,w', '  symbol h in 1..1100\n  symbol w in 1..1000', [['n_big', '1,1,2*h,2*w', `sizes = [1, 1, 2*h, 2*w], scales = [1, 1, 2, 2], mode = "nearest"`]]);
    await expectSizes(g, [{ x: [1, 1, 1, 1] }, { x: [1, 1, 37, 3] }, { x: [1, 1, 1100, 1000] }]);
  });
});

describe('Resize with symbolic dims: refusals', () => {
  it('names the node and why, in one line, for what the symbolic kernel cannot do exactly', () => {
    const refusal = (attrs: string, dtype = 'f32'): string => {
      const g = parseKir(`graph @g(%x: ${dtype}[1,h]) {\n  symbol h in 1..9\n  %y = Resize(%x) {${attrs}} : ${dtype}[1,2*h]\n  return %y\n}`);
      try {
        compileGraph(g, { source: 't', target: { shaderF16: false } });
      } catch (e) {
        return String(e);
      }
      return 'compiled';
    };
    expect(refusal('sizes = [1, 2*h], mode = "linear", antialias = 1')).toMatch(/^LoweringError: .*%y = Resize\(%x\): Resize of symbolic axis 1 \(h -> 2\*h\) with antialias has no kernel unless the scale is a constant >= 1/);
    expect(refusal('sizes = [1, 2*h], scales = [1, 2], coordinate_transformation_mode = "tf_crop_and_resize"')).toMatch(/coordinate_transformation_mode 'tf_crop_and_resize' has no kernel for symbolic sizes/);
    expect(refusal('sizes = [1, 2*h], scales = [1, 2.0001]')).toMatch(/scale 2\.0001 is not a multiple of 1\/1024/);
    expect(refusal('sizes = [1, 2*h]', 'f16')).toMatch(/%x is f16, packed several to a storage word/);
    for (const r of [refusal('sizes = [1, 2*h], mode = "linear", antialias = 1'), refusal('sizes = [1, 2*h]', 'f16')]) expect(r.split('\n')).toHaveLength(1);
  });
});

describe('CumSum with symbolic dims on the adapter', () => {
  it('scans symbolic and static axes, exclusive and reverse, f32 and i32', async () => {
    const g = parseKir(`graph @scan(%x: f32[b,s,3], %i: i32[s,b]) {
  symbol b in 1..5
  symbol s in 1..700
  %a = CumSum(%x) {axis = 1} : f32[b,s,3]
  %e = CumSum(%x) {axis = 1, exclusive = 1, reverse = 1} : f32[b,s,3]
  %r = CumSum(%x) {axis = 0, reverse = 1} : f32[b,s,3]
  %t = CumSum(%x) {axis = 2, exclusive = 1} : f32[b,s,3]
  %k = CumSum(%i) {axis = 0, exclusive = 1} : i32[s,b]
  %p = CumProd(%i) {axis = 1, reverse = 1} : i32[s,b]
  return %a, %e, %r, %t, %k, %p
}`);
    await expectSizes(g, [
      { x: [1, 1, 3], i: [1, 1] },
      { x: [3, 257, 3], i: [257, 3] },
      { x: [5, 700, 3], i: [700, 5] },
      { x: [2, 31, 3], i: [31, 2] },
    ]);
  });
});
