// kiln tune reads a model's GEMV shapes back from a manifest (compiler/tune/gemv-shapes.ts): rows, M, K, the op and
// the weight's element size from each matmul dispatch's label, bindings and flops. Checked against programs whose
// shapes are known, compiled in memory (no GPU): fused epilogues, biases, f16 weights and panel-arranged weights
// still read right; a GEMM (more than 8 rows) and a matmul of two activations are not GEMVs.
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { materialize } from '../../compiler/memory/lazy-file.js';
import { type GemvCase, gemvCases } from '../../compiler/tune/gemv-shapes.js';
import { timedShape } from '../../compiler/tune/tune.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { seededValues } from '../../compiler/tune/candidates.js';

function shapesOf(build: (b: GraphBuilder) => void, opts: { weightsDtype?: 'f32' | 'f16'; layout?: 'auto' | 'row-major' } = {}): GemvCase[] {
  const b = new GraphBuilder('shapes');
  build(b);
  const graph = b.build();
  const artifact = compileProgram({ name: 'shapes', entries: { run: { graph } } }, { profile: PROFILES.lavapipe!, layout: opts.layout ?? 'row-major', weightsDtype: opts.weightsDtype ?? 'f32' });
  return gemvCases(artifact.manifest, (f) => new TextDecoder().decode(materialize(artifact.files.get(f)!)));
}

const w = (b: GraphBuilder, name: string, shape: [number, number]) => b.constant(makeTensor('f32', shape, seededValues(shape[0] * shape[1], shape[0])), name);

/** x [rows, 64] -> MatMul W1 [64, 96] + bias -> Relu -> Gemm transB W2 [48, 96]; plus a 16-row MatMul and x . x^T. */
function model(b: GraphBuilder, rows: number): void {
  const x = b.input('x', tensorType('f32', [rows, 64]));
  const h = b.op('Relu', [b.op('Add', [b.op('MatMul', [x, w(b, 'w1', [64, 96])]), w(b, 'b1', [1, 96])])]);
  b.output(b.op('Gemm', [h, w(b, 'w2', [48, 96]), w(b, 'b2', [1, 48])], { transB: 1 }, { names: ['y'] }));
  const big = b.input('big', tensorType('f32', [16, 64]));
  b.output(b.op('MatMul', [big, w(b, 'w3', [64, 32])], {}, { names: ['gemm'] }));
  b.output(b.op('MatMul', [x, b.op('Transpose', [x], { perm: [1, 0] })], {}, { names: ['gram'] }));
}

describe('gemvCases', () => {
  it.each([1, 3, 8])('%i row(s): the two GEMV weights, largest first; the GEMM and the activation matmul left out', (rows) => {
    expect(shapesOf((b) => model(b, rows))).toEqual([
      { op: 'MatMul', m: 96, k: 64, rows, elemBytes: 4, uses: 1, weight: 'w1' },
      { op: 'Gemm', m: 48, k: 96, rows, elemBytes: 4, uses: 1, weight: 'w2' },
    ]);
  });

  it('f16 weights, and weights arranged in panels (their regions padded), keep their shapes', () => {
    const f16 = shapesOf((b) => model(b, 2), { weightsDtype: 'f16' });
    // The label names the f32 value the matmul reads: store-weights-f16's Cast of the weight (fused into the loads).
    expect(f16.map((s) => [s.weight, s.m, s.k, s.elemBytes])).toEqual([['w1.f32', 96, 64, 2], ['w2.f32', 48, 96, 2]]);
    const arranged = shapesOf((b) => model(b, 2), { layout: 'auto' });
    expect(arranged.map((s) => [s.weight, s.m, s.k, s.elemBytes])).toEqual([['w1', 96, 64, 4], ['w2', 48, 96, 4]]);
  });

  it('one shape read by several matmuls counts each use', () => {
    const cases = shapesOf((b) => {
      const x = b.input('x', tensorType('f32', [1, 32]));
      for (const name of ['q', 'k', 'v']) b.output(b.op('Gemm', [x, w(b, name, [32, 32])], { transB: 1 }, { names: [`y_${name}`] }));
    });
    expect(cases).toEqual([{ op: 'Gemm', m: 32, k: 32, rows: 1, elemBytes: 4, uses: 3, weight: 'q' }]);
  });
});

describe('timedShape', () => {
  it('cuts M of a weight over 16 MiB to a multiple of 256 that fits, and leaves smaller ones alone', () => {
    const s: GemvCase = { op: 'Gemm', m: 11008, k: 4096, rows: 1, elemBytes: 4, uses: 1, weight: 'w' };
    expect(timedShape(s).m).toBe(1024);
    expect(timedShape({ ...s, elemBytes: 2 }).m).toBe(2048);
    expect(timedShape({ ...s, m: 1000 })).toEqual({ ...s, m: 1000 });
  });
});
