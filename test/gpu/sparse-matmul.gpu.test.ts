// MatMul and Gemm over a Tiled-CSL weight on the adapter against the interpreter (which decodes the weight and
// multiplies in float64), through the real compiler and runtime. Every case is one graph holding the same product
// three times: the 'direct' and the 'scatter' kernel with one K slice, and one of them (alternating) with split-K,
// a second (reduction) dispatch, forced per node through CompileOptions.sparseKernel, so the variants are checked
// on identical data. Without bias the weight is a MatMul's [K, M] stored transposed; with bias a Gemm's
// (transB) [M, K] stored row-major: both layouts the encode pass produces. The table covers sparsity 0, 50, 90 and
// 100 % (an all-zero weight has no entries at all), N = 1, 3, 16, 64 and 70 (one, three, vec4 and several N
// blocks; N = 1 walks several rows per invocation), f16 and f32 stored values, bias or none, x with batch dims,
// M and K drawn at random but never tile multiples, tiles from 8 to 256 wide (row groups that split a tile),
// x in f16 with and without shader-f16 (then y is packed and only the reduction writes it), and fast-check adds
// fully random cases. f32 results within rtol 1e-4 (atol 1e-5), f16 results within about one f16 ulp; values
// in [-1, 1].
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type DType, type Graph, GraphBuilder, type Node, ROW_MAJOR, TRANSPOSED, type Tensor, encodeStored, makeTensor, tensorType, tiledCslEncoding } from '../../ir/index.js';
import type { SparseOverride } from '../../compiler/lower/sparse-lowerings.js';
import { rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const F32 = { rtol: 1e-4, atol: 1e-5 };
const F16 = { rtol: 2e-3, atol: 1e-3 };

interface SparseCase {
  readonly m: number;
  readonly k: number;
  /** x's leading dims (their product is N). */
  readonly batch: readonly number[];
  readonly tileM: number;
  readonly tileK: number;
  readonly values: 'f16' | 'f32';
  /** Fraction of A's elements that are zero. */
  readonly sparsity: number;
  readonly bias: boolean;
  readonly x?: DType;
  /** K slices of the split-K nodes (clamped to the K-tiles by the plan). */
  readonly splitK?: number;
  readonly shaderF16?: boolean;
  readonly seed: number;
}

const describeCase = (c: SparseCase): string =>
  `A ${c.m}x${c.k} in ${c.tileM}x${c.tileK} ${c.values} tiles, ${c.sparsity * 100}% zeros, x [${[...c.batch, c.k].join(',')}] ${c.x ?? 'f32'}` +
  `${c.bias ? ', bias' : ''}${c.shaderF16 === false ? ', no shader-f16' : ''}`;

/** A's elements: zero with probability `sparsity`, else uniform in [-1, 1] and never zero. */
function weight(c: SparseCase, r: () => number): number[] {
  return Array.from({ length: c.m * c.k }, () => (r() < c.sparsity ? 0 : (r() * 2 - 1) * 0.999 + 0.0005));
}

/** The case's graph (three matmuls over the same weight and inputs), its inputs and the kernel forced per node. */
function build(c: SparseCase): { graph: Graph; inputs: Record<string, Tensor>; force: (node: Node) => SparseOverride | undefined } {
  const r = rng(c.seed);
  const xDtype = c.x ?? 'f32';
  const a = makeTensor('f32', [c.m, c.k], weight(c, r));
  const b = new GraphBuilder('sparse');
  const x = b.input('x', tensorType(xDtype, [...c.batch, c.k]));
  const encoding = tiledCslEncoding([c.tileM, c.tileK], c.values);
  // Gemm(transB) reads A[M,K] itself (row-major); MatMul reads W = A^T [K,M], stored transposed (as A). Gemm is
  // 2-D: with batch dims the bias is an Add after the MatMul (unfused: the sparse kernels have no epilogue).
  const gemm = c.bias && c.batch.length === 1;
  const type = gemm ? tensorType(xDtype, [c.m, c.k], ROW_MAJOR, encoding) : tensorType(xDtype, [c.k, c.m], TRANSPOSED, encoding);
  const logical = gemm ? a : makeTensor('f32', [c.k, c.m], (i) => a.data[(i % c.m) * c.k + Math.floor(i / c.m)]!);
  const w = b.declareConstant({ name: 'w', type, value: encodeStored(type, logical) });
  const bias = c.bias ? [b.constant(makeTensor(xDtype, [c.m], () => r() * 2 - 1))] : [];
  // Split-K on one variant per case, alternating with the seed (each compiled kernel costs seconds on lavapipe).
  const choices: SparseOverride[] = [{ variant: 'direct', splitK: 1 }, { variant: 'scatter', splitK: 1 }, { variant: c.seed % 2 ? 'scatter' : 'direct', splitK: c.splitK ?? 3 }];
  const forced = new Map<string, SparseOverride>();
  for (const choice of choices) {
    const y = gemm ? b.op('Gemm', [x, w, ...bias], { transB: 1 }) : c.bias ? b.op('Add', [b.op('MatMul', [x, w]), ...bias]) : b.op('MatMul', [x, w]);
    forced.set(gemm || !c.bias ? y : b.build().nodes.at(-2)!.outputs[0]!, choice);
    b.output(y);
  }
  const n = c.batch.reduce((p, q) => p * q, 1);
  return {
    graph: b.build(),
    inputs: { x: makeTensor(xDtype, [...c.batch, c.k], Array.from({ length: n * c.k }, () => r() * 2 - 1)) },
    force: (node) => forced.get(node.outputs[0]!),
  };
}

async function check(c: SparseCase): Promise<void> {
  const { graph, inputs, force } = build(c);
  const f16Result = (c.x ?? 'f32') === 'f16';
  await expectGpuMatchesInterpreter(graph, inputs, f16Result ? F16 : F32, { shaderF16: c.shaderF16 ?? true, compile: { sparseKernel: force } });
}

/**
 * A dim drawn from [lo, hi] that is not a multiple of the tile (so the last tiles reach past the matrix), from
 * the case's seed.
 */
function raggedDim(r: () => number, lo: number, hi: number, tile: number): number {
  const d = lo + Math.floor(r() * (hi - lo + 1));
  return d % tile === 0 ? d + 1 : d;
}

type TableCase = Omit<SparseCase, 'm' | 'k' | 'seed'> & { readonly mRange: readonly [number, number]; readonly kRange: readonly [number, number] };

/** The table's cases with M and K drawn (ragged) from their ranges; the seed is the row's index. */
function tableCase(t: TableCase, seed: number): SparseCase {
  const r = rng(1000 + seed);
  const { mRange, kRange, ...rest } = t;
  return { ...rest, m: raggedDim(r, ...mRange, t.tileM), k: raggedDim(r, ...kRange, t.tileK), seed };
}

const TABLE: readonly TableCase[] = [
  // Sparsity 0, 50, 90 and 100 % against N = 1, 3, 16, 64 and 70 (N = 1 walks several rows per invocation).
  { mRange: [20, 60], kRange: [20, 80], batch: [1], tileM: 16, tileK: 16, values: 'f32', sparsity: 0, bias: true },
  { mRange: [40, 90], kRange: [60, 130], batch: [3], tileM: 32, tileK: 32, values: 'f16', sparsity: 0.5, bias: false, splitK: 2 },
  { mRange: [100, 150], kRange: [200, 300], batch: [2, 8], tileM: 48, tileK: 64, values: 'f16', sparsity: 0.9, bias: true },
  { mRange: [30, 60], kRange: [40, 100], batch: [64], tileM: 32, tileK: 32, values: 'f32', sparsity: 1, bias: true },
  { mRange: [40, 70], kRange: [50, 90], batch: [70], tileM: 24, tileK: 16, values: 'f32', sparsity: 0.5, bias: true, splitK: 4 },
  { mRange: [100, 140], kRange: [300, 600], batch: [1], tileM: 100, tileK: 128, values: 'f16', sparsity: 0.9, bias: false },
  // A 256-wide tile split between workgroups (direct row groups, scatter's 8-row dense tiles), and 8-wide tiles
  // whose columns are not swizzled.
  { mRange: [110, 150], kRange: [300, 600], batch: [2, 8], tileM: 100, tileK: 256, values: 'f32', sparsity: 0.5, bias: true },
  { mRange: [20, 40], kRange: [20, 50], batch: [5, 3], tileM: 8, tileK: 8, values: 'f16', sparsity: 0.9, bias: false },
  // x and bias in f16 (y f16), with shader-f16 and without (x and y packed two per word, y written by the reduction).
  { mRange: [50, 80], kRange: [100, 160], batch: [2, 2], tileM: 32, tileK: 64, values: 'f16', sparsity: 0.5, bias: true, x: 'f16' },
  { mRange: [20, 40], kRange: [50, 90], batch: [1], tileM: 16, tileK: 32, values: 'f16', sparsity: 0.9, bias: true, x: 'f16', shaderF16: false },
];

describe('MatMul and Gemm over a Tiled-CSL weight', () => {
  TABLE.map(tableCase).forEach((c) => it(describeCase(c), () => check(c)));

  const tileK = fc.constantFrom(8, 16, 32, 64, 128, 256);
  const randomCase: fc.Arbitrary<SparseCase> = fc.record({
    m: fc.integer({ min: 1, max: 150 }),
    k: fc.integer({ min: 1, max: 300 }),
    batch: fc.oneof(fc.constantFrom([1], [3], [16], [64], [70]), fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 })),
    tileM: fc.integer({ min: 1, max: 128 }),
    tileK,
    values: fc.constantFrom('f16' as const, 'f32' as const),
    sparsity: fc.constantFrom(0, 0.5, 0.9, 1),
    bias: fc.boolean(),
    splitK: fc.integer({ min: 2, max: 5 }),
    seed: fc.integer({ min: 1, max: 1e6 }),
  }).filter((c) => c.tileM * c.tileK <= 65536);

  it('random shapes, tiles and sparsities', async () => {
    await fc.assert(fc.asyncProperty(randomCase, check), { numRuns: 2, seed: 20250601 });
  });
});
