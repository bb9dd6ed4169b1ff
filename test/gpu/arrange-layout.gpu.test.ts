// The arranged GEMV on the adapter: for random ragged shapes (M, K not multiples of the panel or of 4; 1..8
// activation rows, and up to 22 rows read in blocks of 8 with a ragged last block: the prefill GEMM over decode
// panels, arranged under the lavapipe profile, whose panelFlopsPerMs makes it pay), MatMul [K,M] and Gemm transB [M,K] with bias and alpha/beta, f32 and f16 weights (f16 read as
// packed u32 pairs without shader-f16), the artifact compiled with arrange-layout matches the interpreter, and
// gives outputs identical to the row-major artifact's where both sum K in the same order (the arranged kernel's
// order differs from the skinny kernel's, so bit equality holds for the exactly representable inputs checked last).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType, toleranceExcess } from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { inferShapes, runPipeline, storeWeightsAsF16 } from '../../passes/index.js';
import type { DeviceProfile } from '../../passes/sparse/cost-model.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { expectGpuMatchesInterpreter, runGraphOnGpu } from './graph-harness.js';
import { randomTensor } from './data.js';

interface Case {
  rows: number;
  k: number;
  m: number;
  gemm: boolean;
  f16: boolean;
  relu: boolean;
  seed: number;
}

/** Values in [-8, 8] without edge values: f16 holds every weight (so store-weights-f16 narrows it) and sums stay finite. */
const SMOOTH = { edges: 0 };

function gemv(o: Case, integers = false): Graph {
  const b = new GraphBuilder('gemv');
  const x = b.input('x', tensorType('f32', o.rows === 1 && !o.gemm ? [o.k] : [o.rows, o.k]));
  const wt = randomTensor('f32', o.gemm ? [o.m, o.k] : [o.k, o.m], o.seed + 1, SMOOTH);
  const w = b.constant(integers ? makeTensor('f32', wt.shape, (i) => ((i * 7) % 9) - 4) : wt, 'w');
  let y = o.gemm ? b.op('Gemm', [x, w, b.constant(randomTensor('f32', [o.m], o.seed + 2, SMOOTH), 'bias')], { transB: 1, alpha: 0.75, beta: 1.5 }) : b.op('MatMul', [x, w]);
  if (o.relu) y = b.op('Relu', [y]);
  b.output(y);
  return b.build();
}

const arbCase = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 22 })),
  k: fc.integer({ min: 1, max: 150 }),
  m: fc.integer({ min: 40, max: 600 }),
  gemm: fc.boolean(),
  f16: fc.boolean(),
  relu: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

describe('arranged GEMV on the adapter', () => {
  it('matches the interpreter on random ragged shapes, f32 and f16 weights, MatMul and Gemm (fused Relu)', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (o) => {
        // With f16 weights the graph is the f16-stored one (store-weights-f16): the interpreter computes exactly the
        // weights the kernels read, so the tolerance is only for the order of f32 sums.
        const g = o.f16 ? storeWeightsAsF16(runPipeline(gemv(o), [inferShapes]).graph) : gemv(o);
        const x = { x: randomTensor('f32', g.inputs[0]!.type.shape as number[], o.seed, SMOOTH) };
        await expectGpuMatchesInterpreter(g, x, { rtol: 1e-4, atol: 1e-4 }, { compile: { profile: PROFILES.lavapipe! } });
      }),
      { numRuns: 16 },
    );
  }, 240_000);

  it('the arranged artifact uses the arranged kernel and the row-major one does not', () => {
    const o: Case = { rows: 1, k: 96, m: 333, gemm: false, f16: true, relu: false, seed: 3 };
    const files = (layout: 'auto' | 'row-major'): string[] =>
      [...compileGraph(gemv(o), { source: 'test', target: { shaderF16: false }, layout, weightsDtype: 'f16' }).files]
        .filter(([path]) => path.endsWith('.wgsl'))
        .map(([, bytes]) => new TextDecoder().decode(bytes as Uint8Array));
    const arranged = files('auto');
    const rowMajor = files('row-major');
    // f16 panels are read eight halves per 16-byte load (vec4<u32>), with no barrier.
    expect(arranged.some((t) => /array<vec4<u32>>/.test(t) && !/workgroupBarrier/.test(t))).toBe(true);
    expect(rowMajor.some((t) => /workgroupBarrier/.test(t))).toBe(true);
  });

  it('a GEMM over more than 8 rows reads panels where the profile rates the arranged kernel, else stays row-major', () => {
    const o: Case = { rows: 13, k: 64, m: 96, gemm: true, f16: false, relu: false, seed: 4 };
    const arranged = (profile: DeviceProfile): boolean =>
      compileGraph(gemv(o), { source: 'test', target: { shaderF16: false }, profile }).manifest.kernels.some((k) => k.file.includes('gemv-arranged'));
    expect(arranged(PROFILES.lavapipe!)).toBe(true);
    expect(arranged(PROFILES['generic-gpu']!)).toBe(false);
  });

  it('arranged and row-major artifacts give identical outputs (exact: integer-valued data sums exactly in any order)', async () => {
    for (const o of [
      { rows: 3, k: 77, m: 301, gemm: false, f16: false, relu: false, seed: 5 },
      { rows: 1, k: 130, m: 517, gemm: true, f16: true, relu: true, seed: 6 },
      { rows: 8, k: 33, m: 64, gemm: true, f16: false, relu: false, seed: 7 },
      { rows: 19, k: 41, m: 200, gemm: false, f16: true, relu: false, seed: 8 },
    ]) {
      const g = gemv(o, true);
      const x = { x: makeTensor('f32', g.inputs[0]!.type.shape as number[], (i) => (i % 5) - 2) };
      const weightsDtype = o.f16 ? ('f16' as const) : ('f32' as const);
      const a = await runGraphOnGpu(g, x, { compile: { weightsDtype, layout: 'auto', profile: PROFILES.lavapipe! } });
      const r = await runGraphOnGpu(g, x, { compile: { weightsDtype, layout: 'row-major' } });
      const want = Object.values(interpret(g, x))[0]!;
      const [ga, gr] = [Object.values(a)[0]!, Object.values(r)[0]!];
      expect(Array.from(ga.data)).toEqual(Array.from(gr.data));
      expect(toleranceExcess(ga, want, 1e-6, 1e-6)).toBe(0);
    }
  }, 120_000);

  it('a tied embedding: the Gather and the LM head both read the row panels in place, matching the interpreter', async () => {
    for (const [vocab, hidden, f16] of [[333, 24, false], [517, 40, false], [300, 16, true]] as const) {
      const b = new GraphBuilder('tied');
      const ids = b.input('ids', tensorType('i32', [3]));
      const table = b.constant(randomTensor('f32', [vocab, hidden], vocab, SMOOTH), 'wte');
      const h = b.op('Gather', [table, ids], { axis: 0 });
      // Gemm transB over the table (the LM head) on the last gathered row, as a decoder's step does.
      const last = b.op('Slice', [h], { starts: [2], ends: [3], axes: [0] });
      b.output(h, b.op('Gemm', [last, table], { transB: 1 }));
      const g = f16 ? storeWeightsAsF16(runPipeline(b.build(), [inferShapes]).graph) : b.build();
      const x = { ids: makeTensor('i32', [3], [vocab - 1, 0, Math.floor(vocab / 2)]) };
      const compile = { layout: 'auto' as const, ...(f16 ? { weightsDtype: 'f16' as const } : {}) };
      const files = compileGraph(g, { source: 'test', target: { shaderF16: false }, ...compile }).manifest.kernels.map((k) => k.file);
      expect(files.some((f) => f.includes('gemv-arranged')), `vocab ${vocab}: the head reads panels`).toBe(true);
      await expectGpuMatchesInterpreter(g, x, { rtol: 1e-5, atol: 1e-5 }, { compile });
    }
  }, 120_000);
});
