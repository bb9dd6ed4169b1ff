// The passes that change how constants are stored, held to their declared tolerance on random graphs:
// interp(pass(g)) against interp(g). encode-sparse-weights is exact with f32 values and within its bound with f16
// values; materialize-encodings is exact and leaves no encoded constant read anywhere but in place;
// split-oversized-weights stays within its bound at any binding limit. Entries of one program that share a
// weight get the same storage for it, whatever their row counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Graph,
  GraphBuilder,
  TRANSPOSED,
  blocked,
  encodeStored,
  interpret,
  isPlainStorage,
  makeTensor,
  tensorType,
  toleranceExcess,
  updateGraph,
} from '../../ir/index.js';
import {
  DEFAULT_TARGET,
  PROFILES,
  type PassTarget,
  configure,
  encodeSparseWeights,
  materializeEncodings,
  pruneSmallest,
  readsInPlace,
  runProgramPipeline,
  splitOversized,
} from '../../passes/index.js';

const LAVAPIPE: PassTarget = { ...DEFAULT_TARGET, profile: PROFILES.lavapipe! };
/**
 * lavapipe with the row-major dense kernel's rate (1.75e5 multiply-adds per ms, before arranged weights): there
 * every pruned weight here goes sparse, which the tests of the encoding itself need; the real profile keeps small
 * or half-pruned weights dense, which the cost-model tests cover.
 */
const SPARSE_FAVOURED: PassTarget = { ...LAVAPIPE, profile: { ...PROFILES.lavapipe!, denseMacsPerMs: 175000 } };

/** x[n, k] . W (MatMul of W[k, m], or Gemm transB of W[m, k] plus a bias), W pruned to `sparsity`. */
function layer(o: { n: number; k: number; m: number; gemm: boolean; sparsity: number; seed: number }, name = 'g'): Graph {
  let s = o.seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const b = new GraphBuilder(name);
  const x = b.input('x', tensorType('f32', [o.n, o.k]));
  const shape = o.gemm ? [o.m, o.k] : [o.k, o.m];
  const values = pruneSmallest(Float64Array.from({ length: o.m * o.k }, next), Math.round(o.sparsity * o.m * o.k));
  const w = b.constant(makeTensor('f32', shape, values), 'w');
  b.output(o.gemm ? b.op('Gemm', [x, w, b.constant(makeTensor('f32', [o.m], next), 'bias')], { transB: 1 }) : b.op('MatMul', [x, w]));
  return b.build();
}

const inputsFor = (g: Graph, seed: number) => {
  const t = g.inputs[0]!.type;
  return { x: makeTensor('f32', t.shape as number[], (i) => Math.sin(i * 12.9898 + seed)) };
};

const arbLayer = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  k: fc.integer({ min: 64, max: 90 }),
  m: fc.integer({ min: 64, max: 90 }),
  gemm: fc.boolean(),
  sparsity: fc.constantFrom(0.5, 0.8, 0.95),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

describe('encode-sparse-weights', () => {
  it('stores pruned weights as Tiled-CSL: exact with f32 values; with f16 values, exactly the f16-rounded weights', () => {
    fc.assert(
      fc.property(arbLayer, fc.boolean(), (o, f16) => {
        const g = layer(o);
        const target = { ...SPARSE_FAVOURED, shaderF16: f16 };
        const out = runProgramPipeline({ g }, [encodeSparseWeights], { target }).graphs.g!;
        const w = out.constants.find((c) => c.name === 'w')!;
        expect(w.type.encoding.kind).toBe('tiled-csl');
        expect(w.type.layout.kind).toBe(o.gemm ? 'row-major' : 'transposed');
        expect(out.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
        const inputs = inputsFor(g, o.seed);
        // The reference: the same graph with its weight rounded to the value type (f16 or f32) once.
        const rounded = updateGraph(g, { constants: g.constants.map((c) => (c.name === 'w' ? { ...c, value: makeTensor('f32', c.value!.shape, makeTensor(f16 ? 'f16' : 'f32', c.value!.shape, c.value!.data).data) } : c)) });
        const [want, got] = [interpret(rounded, inputs), interpret(out, inputs)];
        for (const [k, v] of Object.entries(want)) expect([...got[k]!.data]).toEqual([...v.data]);
      }),
      { numRuns: 25 },
    );
  });

  it('entries sharing a weight choose its storage together (prefill N=64 and decode N=1)', () => {
    const prefill = layer({ n: 64, k: 80, m: 80, gemm: false, sparsity: 0.9, seed: 3 }, 'prefill');
    const decode = layer({ n: 1, k: 80, m: 80, gemm: false, sparsity: 0.9, seed: 3 }, 'decode');
    const { graphs } = runProgramPipeline({ prefill, decode }, [encodeSparseWeights], { target: LAVAPIPE });
    const kinds = Object.values(graphs).map((g) => g.constants.find((c) => c.name === 'w')!.type.encoding.kind);
    expect(new Set(kinds).size).toBe(1);
  });

  it('leaves small, dense and already encoded weights alone', () => {
    const small = layer({ n: 1, k: 16, m: 16, gemm: false, sparsity: 0.9, seed: 1 });
    expect(runProgramPipeline({ g: small }, [encodeSparseWeights], { target: LAVAPIPE }).graphs.g).toBe(small);
    const dense = layer({ n: 1, k: 80, m: 80, gemm: true, sparsity: 0, seed: 1 });
    expect(runProgramPipeline({ g: dense }, [encodeSparseWeights], { target: LAVAPIPE }).graphs.g).toBe(dense);
    const once = runProgramPipeline({ g: layer({ n: 1, k: 80, m: 80, gemm: true, sparsity: 0.9, seed: 1 }) }, [encodeSparseWeights], { target: LAVAPIPE }).graphs.g!;
    expect(runProgramPipeline({ g: once }, [encodeSparseWeights], { target: LAVAPIPE }).graphs.g).toBe(once);
  });
});

describe('materialize-encodings', () => {
  it('is exact, and afterwards every encoded constant is read only in place', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom('transposed', 'blocked'), fc.boolean(), (r, c, kind, twice) => {
        const b = new GraphBuilder('m');
        const x = b.input('x', tensorType('f32', [2, r]));
        const type = tensorType('f32', [r, c], kind === 'transposed' ? TRANSPOSED : blocked([2, 3], 'col'));
        const w = b.declareConstant({ name: 'w', type, value: encodeStored(type, makeTensor('f32', [r, c], (i) => i * 0.25 - 3)) });
        b.output(b.op('MatMul', [x, w]));
        if (twice) b.output(b.op('Relu', [w]), w);
        const g = b.build();
        const out = runProgramPipeline({ m: g }, [materializeEncodings]).graphs.m!;
        const typeOf = (v: string) => out.types.get(v);
        for (const n of out.nodes) for (const v of n.inputs) if (!isPlainStorage(typeOf(v)!)) expect(n.op === 'Materialize' || readsInPlace(typeOf, n, v)).toBe(true);
        expect(out.nodes.filter((n) => n.op === 'Materialize').length).toBe(1);
        const inputs = { x: makeTensor('f32', [2, r], (i) => i - 1.5) };
        expect(Object.values(interpret(out, inputs)).map((t) => [...t.data])).toEqual(Object.values(interpret(g, inputs)).map((t) => [...t.data]));
      }),
      { numRuns: 40 },
    );
  });
});

describe('split-oversized-weights', () => {
  it('keeps MatMul, Gemm and Gather results within its bound at small binding limits', () => {
    fc.assert(
      fc.property(arbLayer, fc.integer({ min: 64, max: 4096 }), (o, limit) => {
        const g = layer({ ...o, sparsity: 0 });
        const maxBindingBytes = Math.max(limit, o.k * 4, o.m * 4);
        const out = runProgramPipeline({ g }, [configure(splitOversized, { maxBindingBytes })]).graphs.g!;
        expect(out.constants.every((c) => (c.value?.data.length ?? 0) * 4 <= Math.max(maxBindingBytes, o.m * 4))).toBe(true);
        const inputs = inputsFor(g, o.seed);
        const tol = splitOversized.tolerance as { rtol: number; atol: number };
        const [want, got] = [interpret(g, inputs), interpret(out, inputs)];
        for (const [k, v] of Object.entries(want)) expect(toleranceExcess(got[k]!, v, tol.rtol, tol.atol)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 20 },
    );
  });

  it('reads its limit from the target, and refuses a bad option by name', () => {
    const g = layer({ n: 1, k: 64, m: 64, gemm: true, sparsity: 0, seed: 2 });
    const out = runProgramPipeline({ g }, [splitOversized], { target: { ...DEFAULT_TARGET, limits: { maxStorageBufferBindingSize: 4096 } } }).graphs.g!;
    expect(out.constants.filter((c) => c.name.startsWith('w.rows')).length).toBe(4);
    expect(() => configure(splitOversized, { maxBindingBytes: 2 })).toThrow(/maxBindingBytes must be an integer >= 4, got 2/);
    expect(() => configure(splitOversized, { maxBytes: 2 })).toThrow(/pass 'split-oversized-weights' has no option 'maxBytes' \(options: maxBindingBytes\)/);
  });
});
