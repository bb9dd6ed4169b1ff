// The reduction-family kernels (Softmax, LogSoftmax, Reduce*, ArgMax, LayerNormalization) with symbolic dims: one
// artifact per graph, run at several sizes of its symbols (1, ragged, the upper bound) on the adapter against the
// interpreter, with no pipeline, shader module, bind group or buffer created by run(). The graphs hold the shapes
// tiny-distilbert-sst2 needs (attention scores softmaxed over a symbolic length, a mean over a static last axis,
// layer norms over static features) plus symbolic strided axes, symbolic reduced axes and a row count whose upper
// bound needs a two-dimensional dispatch. f32 within rtol 1e-4, atol 1e-5 (sums in another order than the
// interpreter); integer results exact.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { type DType, type Graph, parseKir } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';


/**
 * Compile `g` once and run it at each size (every input's shape; contents random, of the input's dtype). Float
 * outputs within rtol 1e-4, atol 1e-5 of the interpreter, integer outputs exact.
 */
async function expectSizes(g: Graph, sizes: readonly Record<string, readonly number[]>[]): Promise<void> {
  const dtypeOf = (name: string): DType => g.types.get(name)!.dtype;
  const cases = casesOf(sizes, (name, shape, seed) => randomTensor(dtypeOf(name), shape, seed, { edges: 0 }));
  await expectGraphRuns(g, cases, { name: 'sym-reduce', tolerance: (_, dtype) => (dtype === 'f32' ? [1e-4, 1e-5] : [0, 0]) });
}

describe('softmax kernels with symbolic dims on the adapter', () => {
  it('attention scores: Softmax and LogSoftmax over a symbolic last axis, Softmax over a symbolic strided axis', async () => {
    const g = parseKir(`graph @scores(%x: f32[batch,2,sequence,sequence]) {
  symbol batch in 1..4
  symbol sequence in 1..40
  %p = Softmax(%x) {axis = -1} : f32[batch,2,sequence,sequence]
  %l = LogSoftmax(%x) {axis = 3} : f32[batch,2,sequence,sequence]
  %q = Softmax(%x) {axis = 2} : f32[batch,2,sequence,sequence]
  return %p, %l, %q
}`);
    const size = (b: number, s: number) => ({ x: [b, 2, s, s] });
    await expectSizes(g, [size(1, 1), size(3, 17), size(4, 40), size(2, 5)]);
  });

  it('a static softmax axis under symbolic outer dims, innermost and strided', async () => {
    const g = parseKir(`graph @rows(%x: f32[batch,7,sequence]) {
  symbol batch in 1..5
  symbol sequence in 1..33
  %p = Softmax(%x) {axis = 1} : f32[batch,7,sequence]
  %y = Transpose(%x) {perm = [0,2,1]} : f32[batch,sequence,7]
  %l = LogSoftmax(%y) {axis = -1} : f32[batch,sequence,7]
  return %p, %l
}`);
    await expectSizes(g, [{ x: [1, 7, 1] }, { x: [5, 7, 33] }, { x: [2, 7, 9] }]);
  });

  it('a row count whose upper bound needs a two-dimensional dispatch', async () => {
    // 66000 rows of up to 256: one row per workgroup, so the dispatch is 65535 x 2 at every size and the padding
    // workgroups past the run's row count stay idle.
    const g = parseKir(`graph @many(%x: f32[n,m]) {
  symbol n in 1..66000
  symbol m in 1..256
  %p = Softmax(%x) {axis = 1} : f32[n,m]
  return %p
}`);
    await expectSizes(g, [{ x: [1, 1] }, { x: [3, 200] }, { x: [66000, 2] }]);
  });
});

describe('reductions with symbolic dims on the adapter', () => {
  it('static reduced axes under symbolic outer dims: the mean over a last axis of 2, strided sums and extrema, ArgMax', async () => {
    const g = parseKir(`graph @outer(%x: f32[batch,sequence,2], %y: f32[batch,5,sequence], %z: i32[batch,sequence,6]) {
  symbol batch in 1..4
  symbol sequence in 1..50
  %m = ReduceMean(%x) {axes = [-1], keepdims = 0} : f32[batch,sequence]
  %s = ReduceSum(%y) {axes = [1]} : f32[batch,1,sequence]
  %h = ReduceMax(%y) {axes = [1], keepdims = 0} : f32[batch,sequence]
  %l = ReduceMin(%z) {axes = [2], keepdims = 0} : i32[batch,sequence]
  %p = ReduceProd(%x) {axes = [0, 2], keepdims = 0} : f32[sequence]
  %a = ArgMax(%y) {axis = 1, keepdims = 0} : i32[batch,sequence]
  %b = ArgMax(%z) {axis = -1, select_last_index = 1} : i32[batch,sequence,1]
  return %m, %s, %h, %l, %p, %a, %b
}`);
    const size = (b: number, s: number) => ({ x: [b, s, 2], y: [b, 5, s], z: [b, s, 6] });
    await expectSizes(g, [size(1, 1), size(3, 17), size(4, 50), size(2, 4)]);
  });

  it('symbolic reduced axes: sums over the sequence, a mean over everything, extrema over two axes, ArgMax along it', async () => {
    const g = parseKir(`graph @inner(%x: f32[batch,sequence,3], %y: f32[batch,5,sequence]) {
  symbol batch in 1..4
  symbol sequence in 1..300
  %s = ReduceSum(%x) {axes = [1], keepdims = 0} : f32[batch,3]
  %m = ReduceMean(%x) {keepdims = 0} : f32[]
  %h = ReduceMax(%y) {axes = [0, 2]} : f32[1,5,1]
  %l = ReduceMin(%y) {axes = [2], keepdims = 0} : f32[batch,5]
  %a = ArgMax(%x) {axis = 1, keepdims = 0} : i32[batch,3]
  %b = ArgMax(%y) {axis = 2, select_last_index = 1, keepdims = 0} : i32[batch,5]
  return %s, %m, %h, %l, %a, %b
}`);
    const size = (b: number, s: number) => ({ x: [b, s, 3], y: [b, 5, s] });
    await expectSizes(g, [size(1, 1), size(3, 17), size(4, 300), size(2, 129)]);
  });
});

describe('LayerNormalization with symbolic dims on the adapter', () => {
  it('static features under symbolic batch and sequence, with and without bias, over one and two axes', async () => {
    const g = parseKir(`graph @norm(%x: f32[batch,sequence,24], %g: f32[24], %b: f32[24], %h: f32[3,8], %e: f32[8]) {
  symbol batch in 1..4
  symbol sequence in 1..64
  %y = LayerNormalization(%x, %g, %b) {axis = -1, epsilon = 0.000001} : f32[batch,sequence,24]
  %u = Reshape(%x) {shape = [0,0,3,8]} : f32[batch,sequence,3,8]
  %t = Transpose(%u) {perm = [0,2,1,3]} : f32[batch,3,sequence,8]
  %z = LayerNormalization(%u, %h) {axis = 2, epsilon = 0.00001} : f32[batch,sequence,3,8]
  %w = LayerNormalization(%t, %e, %e) {axis = -1} : f32[batch,3,sequence,8]
  return %y, %z, %w
}`);
    const size = (b: number, s: number) => ({ x: [b, s, 24], g: [24], b: [24], h: [3, 8], e: [8] });
    await expectSizes(g, [size(1, 1), size(3, 17), size(4, 64), size(2, 5)]);
  });
});

describe('symbolic dims the reduction family refuses', () => {
  it('LayerNormalization over a symbolic axis is refused in one line naming the node and the axes', () => {
    const g = parseKir(`graph @bad(%x: f32[batch,sequence], %g: f32[1]) {
  symbol batch in 1..4
  symbol sequence in 1..64
  %y = LayerNormalization(%x, %g) {axis = -1} : f32[batch,sequence]
  return %y
}`);
    expect(() => compileGraph(g, { source: 'test' })).toThrow(/LayerNormalization over symbolic axes \[sequence\] has no kernel/);
  });
});
