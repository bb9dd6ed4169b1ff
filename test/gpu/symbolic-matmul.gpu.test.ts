// Symbolic dims in the contraction kernels: MatMul, Gemm and Conv compiled once for a range of sizes run every
// size in it on the adapter (1, ragged, the upper bound), matching the interpreter, with no pipeline, shader
// module, bind group or buffer created during run() (counted). Covers the tiled and skinny paths with symbolic
// M (batch folded in), N, K and batch dims, fused epilogues, Gemm's C, two-dimensional dispatches at large upper
// bounds, Conv and ConvTranspose with a symbolic batch on both paths, and the clear refusals that remain.
import { describe, expect, it } from 'vitest';
import { type Artifact, compileGraph } from '../../compiler/compile.js';
import { type Graph, parseKir } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';


const seed = { next: 1 };

/**
 * Compile `g` once and run it at each set of input shapes against the interpreter (rtol 1e-4, atol 1e-5 on
 * inputs in [-1, 1]). `kernels`: how many kernels the program must have (epilogues fused, nothing split off);
 * `check`: further assertions on the artifact.
 */
async function expectSizes(g: Graph, sizes: readonly Record<string, readonly number[]>[], kernels?: number, check?: (a: Artifact) => void): Promise<void> {
  const cases = casesOf(sizes, (_, shape, s) => randomTensor('f32', shape, s, { range: 1, edges: 0 }), seed);
  const checks = (a: Artifact) => {
    if (kernels !== undefined) expect(a.manifest.kernels.length, 'kernels in the program').toBe(kernels);
    check?.(a);
  };
  await expectGraphRuns(g, cases, { name: 'sym-mm', tolerance: () => [1e-4, 1e-5], check: checks });
}

describe('MatMul with symbolic dims', () => {
  it('[batch, sequence, K] x [K, N] with a fused bias Add and Gelu: one tiled [batch*sequence, K] product', async () => {
    const g = parseKir(`graph @proj(%x: f32[batch,seq,40], %w: f32[40,36], %b: f32[36]) {
  symbol batch in 1..3
  symbol seq in 1..40
  %m = MatMul(%x, %w) : f32[batch,seq,36]
  %a = Add(%m, %b) : f32[batch,seq,36]
  %y = Gelu(%a) : f32[batch,seq,36]
  return %y
}`);
    const at = (b: number, s: number) => ({ x: [b, s, 40], w: [40, 36], b: [36] });
    await expectSizes(g, [at(1, 1), at(2, 17), at(3, 40), at(1, 33)], 1);
  });

  it('skinny N (2 and 3) over a symbolic long side, with short and long K', async () => {
    const g = parseKir(`graph @skinny(%x: f32[batch,seq,2], %w: f32[2,2], %z: f32[batch,seq,100], %v: f32[100,3]) {
  symbol batch in 1..2
  symbol seq in 1..300
  %h = MatMul(%x, %w) : f32[batch,seq,2]
  %c = MatMul(%z, %v) : f32[batch,seq,3]
  return %h, %c
}`);
    const at = (b: number, s: number) => ({ x: [b, s, 2], w: [2, 2], z: [b, s, 100], v: [100, 3] });
    await expectSizes(g, [at(1, 1), at(2, 131), at(2, 300), at(1, 64)]);
  });

  it('attention: scores [b,h,s,d] x [b,h,d,s] (symbolic M, N, batch) and probs x V (symbolic K), tiled and skinny', async () => {
    // V with 16, 8 and 1 columns: tiled, skinny, and skinny with unrolled lanes over the run-time K.
    const g = parseKir(`graph @attn(%q: f32[batch,2,seq,8], %k: f32[batch,2,8,seq], %p: f32[batch,2,seq,seq], %v: f32[batch,2,seq,8], %w: f32[batch,2,seq,16], %e: f32[batch,2,seq,1]) {
  symbol batch in 1..2
  symbol seq in 1..40
  %s = MatMul(%q, %k) : f32[batch,2,seq,seq]
  %o = MatMul(%p, %v) : f32[batch,2,seq,8]
  %t = MatMul(%p, %w) : f32[batch,2,seq,16]
  %u = MatMul(%p, %e) : f32[batch,2,seq,1]
  return %s, %o, %t, %u
}`);
    const at = (b: number, s: number) => ({ q: [b, 2, s, 8], k: [b, 2, 8, s], p: [b, 2, s, s], v: [b, 2, s, 8], w: [b, 2, s, 16], e: [b, 2, s, 1] });
    await expectSizes(g, [at(1, 1), at(2, 13), at(2, 40), at(1, 33)], 4);
  });

  it('the contractions of tiny-distilbert-sst2 imported with symbolic batch and sequence (dim 2, head size 1)', async () => {
    const g = parseKir(`graph @distil(%h: f32[batch,sequence,2], %w: f32[2,2], %bias: f32[2], %q: f32[batch,2,sequence,1], %k: f32[batch,2,1,sequence], %p: f32[batch,2,sequence,sequence], %v: f32[batch,2,sequence,1], %c: f32[batch,2], %cw: f32[2,2]) {
  symbol batch in 1..4
  symbol sequence in 1..64
  %m = MatMul(%h, %w) : f32[batch,sequence,2]
  %a = Add(%m, %bias) : f32[batch,sequence,2]
  %s = MatMul(%q, %k) : f32[batch,2,sequence,sequence]
  %o = MatMul(%p, %v) : f32[batch,2,sequence,1]
  %g = Gemm(%c, %cw, %bias) {transB = 1} : f32[batch,2]
  %r = Relu(%g) : f32[batch,2]
  return %a, %s, %o, %r
}`);
    const at = (b: number, s: number) => ({ h: [b, s, 2], w: [2, 2], bias: [2], q: [b, 2, s, 1], k: [b, 2, 1, s], p: [b, 2, s, s], v: [b, 2, s, 1], c: [b, 2], cw: [2, 2] });
    await expectSizes(g, [at(1, 6), at(2, 8), at(1, 1), at(4, 64), at(3, 37)], 4);
  });

  it('short sequences: a symbolic skinny side (M = N = seq <= 8) and symbolic K', async () => {
    const g = parseKir(`graph @short(%q: f32[batch,2,seq,1], %k: f32[batch,2,1,seq], %p: f32[batch,2,seq,seq], %v: f32[batch,2,seq,1]) {
  symbol batch in 1..3
  symbol seq in 1..8
  %s = MatMul(%q, %k) : f32[batch,2,seq,seq]
  %o = MatMul(%p, %v) : f32[batch,2,seq,1]
  return %s, %o
}`);
    const at = (b: number, s: number) => ({ q: [b, 2, s, 1], k: [b, 2, 1, s], p: [b, 2, s, s], v: [b, 2, s, 1] });
    await expectSizes(g, [at(1, 1), at(3, 5), at(3, 8), at(2, 2)]);
  });

  it('a symbolic batch past 65535 workgroups takes a two-dimensional dispatch (idle padding workgroups leave early)', async () => {
    // On lavapipe each workgroup costs, so one size past the limit only (the skinny path shares the dispatch).
    const g = parseKir(`graph @many(%a: f32[n,9,4], %b: f32[n,4,9]) {
  symbol n in 1..66000
  %x = MatMul(%a, %b) : f32[n,9,9]
  return %x
}`);
    const at = (n: number) => ({ a: [n, 9, 4], b: [n, 4, 9] });
    await expectSizes(g, [at(1), at(66000), at(5)], 1, (a) => {
      const [x, y, z] = a.manifest.entryPoints.run!.dispatches[0]!.workgroups;
      expect([x, typeof y, z]).toEqual([65535, 'object', 1]);
    });
  });
});

describe('Gemm with symbolic dims', () => {
  it('[batch, K] x [N, K]^T with alpha, beta and C of shape [N] or [batch, 1]; skinny N with a fused Relu', async () => {
    const g = parseKir(`graph @gemm(%x: f32[batch,24], %w: f32[12,24], %c: f32[12], %d: f32[batch,1], %u: f32[24,2], %e: f32[2]) {
  symbol batch in 1..70
  %y = Gemm(%x, %w, %c) {transB = 1, alpha = 0.5, beta = 2.0} : f32[batch,12]
  %z = Gemm(%x, %w, %d) {transB = 1, beta = -1.0} : f32[batch,12]
  %h = Gemm(%x, %u, %e) : f32[batch,2]
  %r = Relu(%h) : f32[batch,2]
  return %y, %z, %r
}`);
    const at = (b: number) => ({ x: [b, 24], w: [12, 24], c: [12], d: [b, 1], u: [24, 2], e: [2] });
    await expectSizes(g, [at(1), at(33), at(70)], 3);
  });

  it('a batch of at most 8 rows: the skinny side itself is symbolic', async () => {
    const g = parseKir(`graph @rows(%x: f32[batch,50], %w: f32[50,20], %c: f32[20], %xt: f32[50,batch]) {
  symbol batch in 1..6
  %y = Gemm(%x, %w, %c) : f32[batch,20]
  %z = Gemm(%xt, %w) {transA = 1} : f32[batch,20]
  return %y, %z
}`);
    const at = (b: number) => ({ x: [b, 50], w: [50, 20], c: [20], xt: [50, b] });
    await expectSizes(g, [at(1), at(5), at(6)]);
  });
});

describe('Conv with a symbolic batch', () => {
  it('implicit GEMM and direct paths, with bias and a fused Relu, and ConvTranspose', async () => {
    const g = parseKir(`graph @cnn(%x: f32[n,6,9,8], %w: f32[24,6,3,3], %b: f32[24], %v: f32[4,6,3,3], %t: f32[6,3,3,3]) {
  symbol n in 1..3
  %y = Conv(%x, %w, %b) {pads = [1,1,1,1]} : f32[n,24,9,8]
  %r = Relu(%y) : f32[n,24,9,8]
  %z = Conv(%x, %v) {strides = [2,2]} : f32[n,4,4,3]
  %u = ConvTranspose(%x, %t) {strides = [2,2], pads = [1,1,1,1]} : f32[n,3,17,15]
  return %r, %z, %u
}`);
    const at = (n: number) => ({ x: [n, 6, 9, 8], w: [24, 6, 3, 3], b: [24], v: [4, 6, 3, 3], t: [6, 3, 3, 3] });
    await expectSizes(g, [at(1), at(3), at(2)], 3);
  });
});

describe('what still needs static shapes', () => {
  it('refuses MatMulInteger and Einsum over symbolic shapes in one line, naming the symbol to specialise', () => {
    const mmi = parseKir(`graph @q(%a: u8[batch,8], %b: u8[8,4]) {
  symbol batch in 1..4
  %y = MatMulInteger(%a, %b) : i32[batch,4]
  return %y
}`);
    expect(() => compileGraph(mmi, { source: 't' })).toThrow(/MatMulInteger.*symbolic shape \[batch,8\].*--dim batch=<size>/);
    const ein = parseKir(`graph @e(%a: f32[batch,8], %b: f32[8,4]) {
  symbol batch in 1..4
  %y = Einsum(%a, %b) {equation = "ij,jk->ik"} : f32[batch,4]
  return %y
}`);
    expect(() => compileGraph(ein, { source: 't' })).toThrow(/Einsum.*symbolic shape \[batch,8\].*--dim batch=<size>/);
  });
});
