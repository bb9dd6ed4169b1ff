// Symbolic batch and spatial dims in Conv and the pools: each graph compiled once for a range of sizes runs every
// size in it on the adapter (1, ragged, the upper bound), matching the interpreter, with no pipeline, shader
// module, bind group or buffer created during run() (counted). Covers Conv's implicit-GEMM and direct paths with
// pads, strides, dilations, groups, bias, auto_pad SAME (pads that vary with the size) and a fused epilogue;
// MaxPool, AveragePool (count_include_pad both ways, ceil_mode), LpPool and the global pools; two-dimensional
// dispatches at a large upper bound; a small CNN; and the refusals that remain.
import { describe, expect, it } from 'vitest';
import { type Artifact, compileGraph } from '../../compiler/compile.js';
import { type Graph, parseKir } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';

const seed = { next: 1 };

/**
 * Compile `g` once and run it at each set of input shapes against the interpreter (rtol 1e-4, atol 1e-5 on
 * inputs in [-1, 1]). `kernels`: how many kernels the program must have.
 */
async function expectSizes(g: Graph, sizes: readonly Record<string, readonly number[]>[], kernels?: number): Promise<void> {
  const cases = casesOf(sizes, (_, shape, s) => randomTensor('f32', shape, s, { range: 1, edges: 0 }), seed);
  const check = (a: Artifact) => kernels === undefined || expect(a.manifest.kernels.length, 'kernels in the program').toBe(kernels);
  await expectGraphRuns(g, cases, { name: 'sym-conv', tolerance: () => [1e-4, 1e-5], check });
}

describe('Conv with symbolic batch and spatial dims', () => {
  it('GEMM and direct paths: pads, strides, dilations, groups, bias, SAME pads that vary with the size, a fused Relu', async () => {
    // %y and %r: GEMM (24 filters) with bias and Relu; %z: direct (4 filters) with asymmetric pads and dilations;
    // %dw: depthwise SAME_UPPER (pads vary with parity); %sg: grouped GEMM with SAME_LOWER and a stride above the
    // kernel (pads from a product of floor divisions); %c1: 1-D over a symbolic length.
    const g = parseKir(`graph @convs(%x: f32[n,6,h,w], %w: f32[24,6,3,3], %b: f32[24], %v: f32[4,6,3,3], %d: f32[6,1,3,3], %s: f32[32,3,3,3], %x1: f32[n,4,len], %w1: f32[16,4,5]) {
  symbol n in 1..3
  symbol h in 3..40
  symbol w in 5..64
  symbol len in 1..300
  %y = Conv(%x, %w, %b) {pads = [1,1,1,1]} : f32[n,24,h,w]
  %r = Relu(%y) : f32[n,24,h,w]
  %z = Conv(%x, %v) {strides = [2,2], dilations = [1,2], pads = [0,1,2,1]} : f32[n,4,((h-1)//2)+1,((w-3)//2)+1]
  %dw = Conv(%x, %d) {group = 6, auto_pad = "SAME_UPPER", strides = [2,2]} : f32[n,6,((h+1)//2),((w+1)//2)]
  %sg = Conv(%x, %s) {group = 2, auto_pad = "SAME_LOWER", strides = [4,4]} : f32[n,32,((h+3)//4),((w+3)//4)]
  %c1 = Conv(%x1, %w1) {pads = [2,2]} : f32[n,16,len]
  return %r, %z, %dw, %sg, %c1
}`);
    const at = (n: number, h: number, w: number, len: number) => ({ x: [n, 6, h, w], w: [24, 6, 3, 3], b: [24], v: [4, 6, 3, 3], d: [6, 1, 3, 3], s: [32, 3, 3, 3], x1: [n, 4, len], w1: [16, 4, 5] });
    await expectSizes(g, [at(1, 3, 5, 1), at(2, 17, 33, 77), at(3, 40, 64, 300), at(1, 40, 5, 2), at(2, 4, 63, 299)], 5);
  });

  it('a depthwise 1-D conv and a pool over a length whose upper bound needs two dispatch dimensions', async () => {
    const g = parseKir(`graph @long(%x: f32[1,8,len], %d: f32[8,1,3]) {
  symbol len in 1..600000
  %y = Conv(%x, %d) {group = 8, pads = [1,1]} : f32[1,8,len]
  %p = MaxPool(%x) {kernel_shape = [3], pads = [1,1]} : f32[1,8,len]
  return %y, %p
}`);
    const at = (len: number) => ({ x: [1, 8, len], d: [8, 1, 3] });
    await expectSizes(g, [at(1), at(12345), at(600000)]);
  });
});

describe('pools with symbolic batch and spatial dims', () => {
  it('MaxPool, AveragePool (count_include_pad both ways, ceil_mode, SAME), LpPool and the global pools', async () => {
    // The global max and Lp pools are what the importer makes of GlobalMaxPool and GlobalLpPool (p = 2).
    const g = parseKir(`graph @pools(%x: f32[n,6,h,w], %x1: f32[n,3,len]) {
  symbol n in 1..3
  symbol h in 3..40
  symbol w in 5..64
  symbol len in 2..200
  %m = MaxPool(%x) {kernel_shape = [3,3], strides = [2,2], pads = [1,1,1,1]} : f32[n,6,((h-1)//2)+1,((w-1)//2)+1]
  %mc = MaxPool(%x) {kernel_shape = [2,2], strides = [2,2], ceil_mode = 1} : f32[n,6,((h-1)//2)+1,((w-1)//2)+1]
  %a = AveragePool(%x) {kernel_shape = [3,3], strides = [2,2], pads = [1,1,1,1], count_include_pad = 1, ceil_mode = 1} : f32[n,6,(h//2)+1,(w//2)+1]
  %a0 = AveragePool(%x) {kernel_shape = [3,3], strides = [2,2], pads = [0,1,2,1], ceil_mode = 1} : f32[n,6,((h+1)//2),(w//2)+1]
  %as = AveragePool(%x) {kernel_shape = [3,3], strides = [2,2], auto_pad = "SAME_UPPER", count_include_pad = 1} : f32[n,6,((h+1)//2),((w+1)//2)]
  %l = LpPool(%x) {kernel_shape = [2,2], dilations = [2,1], p = 3.0} : f32[n,6,h-2,w-1]
  %l2 = LpPool(%x) {kernel_shape = [3,3], strides = [3,3], p = 2.0} : f32[n,6,((h-3)//3)+1,((w-3)//3)+1]
  %m1 = MaxPool(%x1) {kernel_shape = [2], strides = [3], pads = [1,1], ceil_mode = 1} : f32[n,3,((len+3)//3)]
  %ga = GlobalAveragePool(%x) : f32[n,6,1,1]
  %gm = ReduceMax(%x) {axes = [2,3], keepdims = 1} : f32[n,6,1,1]
  %sq = Mul(%x, %x) : f32[n,6,h,w]
  %ss = ReduceSum(%sq) {axes = [2,3], keepdims = 1} : f32[n,6,1,1]
  %gl = Sqrt(%ss) : f32[n,6,1,1]
  return %m, %mc, %a, %a0, %as, %l, %l2, %m1, %ga, %gm, %gl
}`);
    const at = (n: number, h: number, w: number, len: number) => ({ x: [n, 6, h, w], x1: [n, 3, len] });
    await expectSizes(g, [at(1, 3, 5, 2), at(2, 17, 33, 101), at(3, 40, 64, 200), at(1, 6, 8, 3)]);
  });
});

describe('a CNN over symbolic batch and image size', () => {
  it('Conv -> Relu -> MaxPool -> Conv -> GlobalAveragePool -> Flatten -> Gemm, compiled once, run at several sizes', async () => {
    const g = parseKir(`graph @cnn(%x: f32[n,3,h,w], %w1: f32[16,3,3,3], %b1: f32[16], %w2: f32[32,16,3,3], %b2: f32[32], %fc: f32[32,10], %fb: f32[10]) {
  symbol n in 1..4
  symbol h in 4..48
  symbol w in 4..64
  %c1 = Conv(%x, %w1, %b1) {pads = [1,1,1,1]} : f32[n,16,h,w]
  %r1 = Relu(%c1) : f32[n,16,h,w]
  %p1 = MaxPool(%r1) {kernel_shape = [2,2], strides = [2,2]} : f32[n,16,((h-2)//2)+1,((w-2)//2)+1]
  %c2 = Conv(%p1, %w2, %b2) {pads = [1,1,1,1]} : f32[n,32,((h-2)//2)+1,((w-2)//2)+1]
  %g = GlobalAveragePool(%c2) : f32[n,32,1,1]
  %f = Flatten(%g) {axis = 1} : f32[n,32]
  %y = Gemm(%f, %fc, %fb) : f32[n,10]
  return %y
}`);
    const at = (n: number, h: number, w: number) => ({ x: [n, 3, h, w], w1: [16, 3, 3, 3], b1: [16], w2: [32, 16, 3, 3], b2: [32], fc: [32, 10], fb: [10] });
    await expectSizes(g, [at(1, 4, 4), at(3, 29, 37), at(4, 48, 64)]);
  });
});

describe('what still needs specialising', () => {
  it('refuses a window that does not fit the smallest size, and ConvTranspose over symbolic spatial dims', () => {
    const tight = parseKir(`graph @t(%x: f32[1,2,h]) {
  symbol h in 2..9
  %p = MaxPool(%x) {kernel_shape = [4], pads = [1,0]} : f32[1,2,h-2]
  return %p
}`);
    expect(() => compileGraph(tight, { source: 't' })).toThrow(/MaxPool: window does not fit along spatial dim 0 when h = 2.*--dim h=<size>/);
    const ct = `graph @ct(%x: f32[1,2,h,4], %w: f32[2,3,3,3]) {
  symbol h in 2..9
  %y = ConvTranspose(%x, %w) : f32[1,3,h+2,6]
  return %y
}`;
    expect(() => compileGraph(parseKir(ct), { source: 't' })).toThrow(/ConvTranspose needs static shape: spatial dims of X \[1,2,h,4\] are symbolic/);
  });
});
