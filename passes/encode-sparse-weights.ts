// encode-sparse-weights: every matmul weight (matmul-weights.ts) with zeros in it (pruned by sparsify, or sparse as
// given) is costed dense and sparse for each of its uses (shape and rows N, in every entry of the program), and is
// stored Tiled-CSL when the device profile's cost model (sparse/cost-model.ts) says the sparse kernels are faster
// over its uses. The weight keeps its name and logical type; only its storage changes: layout transposed when the
// tensor is [K, M] (so the stored matrix is Flash-LLM's A[M, K]) and encoding tiled-csl (256x256 tiles, f16 values
// where the target has shader-f16). The MatMul/Gemm nodes stay as they are: which sparse kernel reads the weight,
// and how K is split, is the lowering's choice (compiler/lower/sparse-lowerings.ts), recorded in the schedule.
import {
  type ConstantDecl,
  type Graph,
  TRANSPOSED,
  ROW_MAJOR,
  UNBOUNDED_SYMBOL,
  type TiledCslParams,
  dimProduct,
  dimRange,
  encodeStored,
  makeTensor,
  numel,
  tensorType,
  tiledCslEncoding,
  updateGraph,
} from '../ir/index.js';
import { type WeightUse, matmulWeights, sparseReadable } from './matmul-weights.js';
import { type Pass, bump } from './pass.js';
import { rankKernels } from './sparse/cost-model.js';

/** Below this many elements a weight is never worth a sparse kernel (dispatch costs dominate). */
const MIN_ELEMENTS = 4096;

/**
 * Format parameters: 256x256 tiles, the largest a 16-bit location allows (the direct kernel measured ~1.5x
 * faster on them than on Flash-LLM's 64-wide tiles: fewer row searches per non-zero; the scatter kernel splits a
 * tile across workgroups); f16 values where the adapter has them, f32 otherwise.
 */
export function tileParams(shaderF16: boolean): TiledCslParams {
  return { tileM: 256, tileK: 256, values: shaderF16 ? 'f16' : 'f32' };
}

/** Rows of the activation a use multiplies: the product of the non-contracted dims of x. */
export function rowsOf(g: Graph, x: string): number {
  // A symbolic row count is costed (and reported) at its upper bound, the size memory is planned for.
  const rows = dimProduct(g.types.get(x)!.shape.slice(0, -1));
  return typeof rows === 'number' ? rows : dimRange(rows, (s) => g.symbols[s] ?? UNBOUNDED_SYMBOL)[1];
}

/** Every use of the constant `name` as a matmul weight, over all graphs of the program (by constant name). */
function programUses(program: readonly Graph[], name: string): { graph: Graph; use: WeightUse }[] | undefined {
  const out: { graph: Graph; use: WeightUse }[] = [];
  for (const graph of program) {
    if (!graph.constants.some((c) => c.name === name)) continue;
    const w = matmulWeights(graph).find((x) => x.constant.name === name);
    if (!w) return undefined; // read as something other than a matmul weight in another entry: stays dense
    out.push(...w.uses.map((use) => ({ graph, use })));
  }
  return out;
}

export const encodeSparseWeights: Pass = {
  name: 'encode-sparse-weights',
  summary: 'Store matmul weights with zeros as Tiled-CSL where the target profile\'s cost model says the sparse kernels are faster.',
  // Exact with f32 values; f16 values round each weight once (to nearest even), which is what the kernels read.
  tolerance: { kind: 'lossy', note: 'exact with f32 values; with f16 values, exactly the model with its weights rounded to f16' },
  run(g, cx) {
    const params = tileParams(cx.target.shaderF16);
    const encoded = new Map<string, ConstantDecl>();
    for (const { constant } of matmulWeights(g)) {
      if (!constant.value) continue; // weights still in their file: pruning (sparsify) loads the ones it touches
      const uses = programUses(cx.program, constant.name);
      if (!uses?.length) continue;
      const first = uses[0]!.use;
      const count = first.m * first.k;
      let nnz = 0;
      for (const v of constant.value.data) if (v !== 0) nnz++;
      if (count < MIN_ELEMENTS || nnz === count) continue;
      if (!uses.every((u) => u.use.transposed === first.transposed && sparseReadable(u.use, (v) => u.graph.types.get(v)))) continue;
      const type = tensorType(constant.type.dtype, constant.type.shape, first.transposed ? TRANSPOSED : ROW_MAJOR, tiledCslEncoding([params.tileM, params.tileK], params.values));
      const stored = encodeStored(type, constant.value);
      const denseElementBytes = constant.type.dtype === 'f32' ? 4 : 2;
      const ranked = uses.map((u) => rankKernels(cx.target.profile, { m: first.m, k: first.k, n: rowsOf(u.graph, u.use.x), nnz, denseElementBytes, sparseBytes: stored.data.length * 4 }));
      const denseMs = ranked.reduce((s, r) => s + r.find((e) => e.kernel === 'dense')!.ms, 0);
      const sparseMs = ranked.reduce((s, r) => s + r.find((e) => e.kernel !== 'dense')!.ms, 0);
      if (sparseMs >= denseMs) {
        bump(cx, 'weights-kept-dense');
        continue;
      }
      const { external: _dropped, ...rest } = constant;
      encoded.set(constant.name, { ...rest, type, value: makeTensor('u32', stored.shape, stored.data) });
      bump(cx, 'weights-encoded');
      bump(cx, 'bytes-saved', count * denseElementBytes - stored.data.length * 4);
    }
    if (!encoded.size) return g;
    const types = new Map(g.types);
    for (const [name, c] of encoded) types.set(name, c.type);
    return updateGraph({ ...g, types }, { constants: g.constants.map((c) => encoded.get(c.name) ?? c) });
  },
};
