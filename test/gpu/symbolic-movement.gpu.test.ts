// The movement kernels (Gather, Transpose, Expand, Slice, Concat, Split, Pad, Trilu) with symbolic dims: one
// artifact per graph, run at several sizes of its symbols (1, ragged, the upper bound) on the adapter against the
// interpreter, exactly, with no pipeline, shader module, bind group or buffer created by run(). The graphs put
// symbols in every position the IR accepts for these ops: the shapes tiny-distilbert-sst2 needs (embedding
// lookups, head transposes, the attention mask expanded over heads), symbolic strides under reversed static axes,
// concat intervals that move at run time, and a dispatch large enough to need two dimensions.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { type DType, type Graph, type Tensor, makeTensor, parseKir } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';

/** An input's value at a size: from its shape, a seed for its contents, and every input's shape at that size. */
type Feed = (shape: readonly number[], seed: number, shapes: Readonly<Record<string, readonly number[]>>) => Tensor;
const random =
  (dtype: DType): Feed =>
  (shape, seed) =>
    randomTensor(dtype, shape, seed);
/** i32 indices into an axis of `len` elements (negative ones count from the end, as Gather allows). */
const indices =
  (len: number): Feed =>
  (shape, seed) => {
    const r = rng(seed);
    return makeTensor('i32', shape, () => Math.floor(r() * 2 * len) - len);
  };


/**
 * Compile `g` once and run it at each size: `shapes(size)` gives every input's shape and `feeds` its contents
 * (f32 by default). Every output must equal the interpreter's exactly.
 */
async function expectSizes(g: Graph, feeds: Readonly<Record<string, Feed>>, sizes: readonly Record<string, readonly number[]>[]): Promise<void> {
  const cases = casesOf(sizes, (name, shape, seed, shapes) => (feeds[name] ?? random('f32'))(shape, seed, shapes));
  await expectGraphRuns(g, cases, { name: 'sym-move', tolerance: () => [0, 0] });
}

describe('movement kernels with symbolic dims on the adapter', () => {
  it('embedding lookups: a static table by symbolic ids, positions sliced to the sequence, rows of symbolic data', async () => {
    const g = parseKir(`graph @embed(%ids: i32[batch,sequence], %table: f32[50,8], %pos_ids: i32[1,64], %pos_table: f32[64,8], %cls: i32[], %pick: i32[k]) {
  symbol batch in 1..6
  symbol sequence in 1..64
  symbol k in 1..5
  %w = Gather(%table, %ids) {axis = 0} : f32[batch,sequence,8]
  %p = Slice(%pos_ids) {starts = [0], ends = [sequence], axes = [1], steps = [1]} : i32[1,sequence]
  %e = Gather(%pos_table, %p) {axis = 0} : f32[1,sequence,8]
  %t = Gather(%w, %cls) {axis = 1} : f32[batch,8]
  %u = Gather(%w, %pick) {axis = -2} : f32[batch,k,8]
  %v = Gather(%w, %ids) {axis = 2} : f32[batch,sequence,batch,sequence]
  return %w, %e, %t, %u, %v
}`);
    const size = (batch: number, sequence: number, k: number) => ({ ids: [batch, sequence], table: [50, 8], pos_ids: [1, 64], pos_table: [64, 8], cls: [], pick: [k] });
    // Indices into the sequence axis (and, for %v, into the 8 features) must lie within it at each size.
    const alongSequence: Feed = (shape, seed, shapes) => indices(shapes.ids![1]!)(shape, seed, shapes);
    const feeds: Record<string, Feed> = { ids: indices(8), pos_ids: indices(64), cls: alongSequence, pick: alongSequence };
    await expectSizes(g, feeds, [size(1, 1, 1), size(3, 17, 4), size(6, 64, 5), size(2, 5, 2)]);
  });

  it('attention layouts: head transposes both ways and the mask expanded over heads and queries', async () => {
    const g = parseKir(`graph @heads(%q: f32[batch,sequence,2,3], %mask: bool[batch,1,1,sequence], %bias: f32[sequence,1]) {
  symbol batch in 1..5
  symbol sequence in 1..40
  %t = Transpose(%q) {perm = [0,2,1,3]} : f32[batch,2,sequence,3]
  %k = Transpose(%q) {perm = [0,2,3,1]} : f32[batch,2,3,sequence]
  %b = Transpose(%t) {perm = [0,2,1,3]} : f32[batch,sequence,2,3]
  %r = Transpose(%q) : f32[3,2,sequence,batch]
  %x = Expand(%mask) {shape = [batch,2,sequence,sequence]} : bool[batch,2,sequence,sequence]
  %y = Expand(%bias) {shape = [batch,2,1,sequence]} : f32[batch,2,sequence,sequence]
  return %t, %k, %b, %r, %x, %y
}`);
    const size = (batch: number, sequence: number) => ({ q: [batch, sequence, 2, 3], mask: [batch, 1, 1, sequence], bias: [sequence, 1] });
    await expectSizes(g, { mask: random('bool') }, [size(1, 1), size(2, 13), size(5, 40), size(4, 3)]);
  });

  it('slices: a static start to the end of a symbolic axis, and reversed static axes over symbolic strides', async () => {
    const g = parseKir(`graph @slices(%x: f32[batch,sequence,4], %y: f32[5,sequence]) {
  symbol batch in 1..4
  symbol sequence in 1..30
  %a = Slice(%x) {starts = [1], ends = [sequence], axes = [1]} : f32[batch,sequence-1,4]
  %b = Slice(%x) {starts = [0, -1], ends = [2147483647, -100], axes = [1, 2], steps = [1, -2]} : f32[batch,sequence,2]
  %c = Slice(%y) {starts = [-1], ends = [-100], axes = [0], steps = [-2]} : f32[3,sequence]
  %d = Slice(%y) {starts = [4, 2], ends = [0, 2147483647], axes = [0, -1], steps = [-3, 1]} : f32[2,sequence-2]
  return %a, %b, %c, %d
}`);
    const size = (batch: number, sequence: number) => ({ x: [batch, sequence, 4], y: [5, sequence] });
    // sequence 2 leaves %a one row and %d empty; the upper bound and ragged sizes in between.
    await expectSizes(g, {}, [size(1, 2), size(3, 11), size(4, 30), size(2, 3)]);
  });

  it('concat along a symbolic axis (intervals that move at run time), across symbolic dims, and of 9 inputs', async () => {
    const g = parseKir(`graph @cat(%a: f32[batch,n,3], %b: f32[batch,2,3], %c: f32[batch,m,3], %d: f32[batch,n,2]) {
  symbol batch in 1..4
  symbol n in 1..9
  symbol m in 1..6
  %x = Concat(%a, %b, %c) {axis = 1} : f32[batch,m+n+2,3]
  %y = Concat(%a, %d) {axis = -1} : f32[batch,n,5]
  %z = Concat(%c, %a, %c, %b, %a, %c, %b, %a, %c) {axis = 1} : f32[batch,4*m+3*n+4,3]
  %w = Concat(%b, %b) {axis = 0} : f32[2*batch,2,3]
  return %x, %y, %z, %w
}`);
    const size = (batch: number, n: number, m: number) => ({ a: [batch, n, 3], b: [batch, 2, 3], c: [batch, m, 3], d: [batch, n, 2] });
    await expectSizes(g, {}, [size(1, 1, 1), size(2, 7, 3), size(4, 9, 6), size(3, 2, 5)]);
  });

  it('split and pad of static axes inside symbolic shapes, and trilu of symbolic matrices', async () => {
    const g = parseKir(`graph @parts(%x: f32[batch,7], %y: f32[6,sequence], %z: f32[batch,sequence,sequence]) {
  symbol batch in 1..5
  symbol sequence in 1..12
  %s1, %s2 = Split(%x) {axis = 1, split = [2, 5]} : f32[batch,2], f32[batch,5]
  %t1, %t2, %t3 = Split(%y) {axis = 0, split = [1, 2, 3]} : f32[1,sequence], f32[2,sequence], f32[3,sequence]
  %p = Pad(%x) {pads = [0, 9, 0, 3], mode = "reflect"} : f32[batch,19]
  %q = Pad(%y) {pads = [1, 0, -2, 0], mode = "constant", value = 1.5} : f32[5,sequence]
  %e = Pad(%y) {pads = [2, 0, 1, 0], mode = "edge"} : f32[9,sequence]
  %r = Pad(%y) {pads = [-1, 0, 8, 0], mode = "wrap"} : f32[13,sequence]
  %u = Trilu(%z) {upper = 1, k = 1} : f32[batch,sequence,sequence]
  %l = Trilu(%z) {upper = 0, k = -2} : f32[batch,sequence,sequence]
  return %s1, %s2, %t1, %t2, %t3, %p, %q, %e, %r, %u, %l
}`);
    const size = (batch: number, sequence: number) => ({ x: [batch, 7], y: [6, sequence], z: [batch, sequence, sequence] });
    await expectSizes(g, {}, [size(1, 1), size(4, 9), size(5, 12), size(2, 2)]);
  });

  it('a transpose past 65535 workgroups at the upper bound runs a two-dimensional dispatch, and small sizes too', async () => {
    const g = parseKir(`graph @big(%x: f32[n,3,2]) {
  symbol n in 1..700000
  %t = Transpose(%x) {perm = [2,1,0]} : f32[2,3,n]
  return %t
}`);
    // 700000 * 6 elements / 64 per workgroup = 65625 workgroups: more than one dispatch dimension holds.
    await expectSizes(g, {}, [{ x: [1, 3, 2] }, { x: [700000, 3, 2] }, { x: [1001, 3, 2] }]);
  });

  it('refuses a packed dtype with a symbolic shape in one line naming the node and the symbol', () => {
    for (const dtype of ['u4', 'f16']) {
      const g = parseKir(`graph @packed(%x: ${dtype}[batch,3]) {
  symbol batch in 1..8
  %t = Transpose(%x) : ${dtype}[3,batch]
  return %t
}`);
      expect(() => compileGraph(g, { source: 't', target: { shaderF16: false } })).toThrow(/^.*%t = Transpose.*packed.*symbolic.*--dim batch=<size>.*$/);
    }
  });
});
