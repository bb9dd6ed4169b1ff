// Sparse kernel selection, run by the compiler on the optimised graphs of a program: every matmul weight (see
// passes/matmul-weights.ts) with zeros in it is costed dense and sparse for each of its uses (shape and N), and
// goes sparse when the cost model says the sparse kernels are faster over its uses on this target. A weight that
// goes sparse does so in every entry point (prefill and decode share one encoding; no dense copy is kept): its
// constant is replaced by the Tiled-CSL items and offsets, and each use by SparseMatMul. The choices are reported
// per layer (sparsity, kernel, bytes) for the manifest and `kiln inspect`.
import { type ConstantDecl, type Graph, type Node, type TiledCslParams, encodeTiledCsl, makeTensor, numel, tensorType, tiledCslBytes, updateGraph } from '../../ir/index.js';
import { matmulWeights, type WeightUse } from '../../passes/index.js';
import { type DeviceProfile, type KernelEstimate, type MatmulKernel, rankKernels } from './cost-model.js';

export interface SparseLayerReport {
  readonly weight: string;
  readonly m: number;
  readonly k: number;
  /** Activation rows per use (one per entry point and node). */
  readonly n: readonly number[];
  readonly sparsity: number;
  readonly kernel: MatmulKernel;
  /** Bytes of the weight as the model stores it, and as the artifact stores it. */
  readonly denseBytes: number;
  readonly bytes: number;
}

export interface SparseSelection {
  readonly graphs: readonly Graph[];
  readonly layers: readonly SparseLayerReport[];
}

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

/** Rows of the activation a use multiplies: the product of the non-contracted dims of its first operand. */
function rowsOf(g: Graph, node: Node): number {
  const shape = g.types.get(node.inputs[0]!)!.shape as number[];
  return numel(shape.slice(0, -1));
}

/** Whether a use can become SparseMatMul(x, items, offsets, bias?): plain Gemm scaling and a per-column bias only. */
function rewritable(g: Graph, u: WeightUse): boolean {
  if (u.node.op === 'MatMul') return (g.types.get(u.node.inputs[0]!)?.shape.length ?? 0) >= 1;
  const a = u.node.attrs;
  if ((a.alpha ?? 1) !== 1 || (a.beta ?? 1) !== 1) return false;
  const c = u.node.inputs[2];
  if (c === undefined || c === '') return true;
  const shape = g.types.get(c)!.shape;
  return shape.length === 1 && shape[0] === u.m;
}

/** A = the weight as [M, K] row-major, from the constant's values. */
function matrixA(c: ConstantDecl, use: WeightUse): Float64Array {
  const data = c.value!.data;
  if (!use.transposed) return data;
  const a = new Float64Array(use.m * use.k);
  for (let kk = 0; kk < use.k; kk++) for (let mm = 0; mm < use.m; mm++) a[mm * use.k + kk] = data[kk * use.m + mm]!;
  return a;
}

export function selectSparseKernels(graphs: readonly Graph[], profile: DeviceProfile, shaderF16: boolean): SparseSelection {
  const params = tileParams(shaderF16);
  // A weight's candidates across entries, by constant name (entries share constants by name).
  const byName = new Map<string, { constant: ConstantDecl; uses: { graph: number; use: WeightUse }[] }>();
  graphs.forEach((g, gi) =>
    matmulWeights(g).forEach((w) => {
      const entry = byName.get(w.constant.name) ?? { constant: w.constant, uses: [] };
      entry.uses.push(...w.uses.map((use) => ({ graph: gi, use })));
      byName.set(w.constant.name, entry);
    }),
  );

  const layers: SparseLayerReport[] = [];
  const rewrites = new Map<string, { items: ConstantDecl; offsets: ConstantDecl; choice: Map<Node, KernelEstimate>; params: TiledCslParams }>();
  for (const [name, { constant, uses }] of byName) {
    if (!constant.value) continue; // weights still in their file: pruning (sparsify) loads the ones it touches
    const first = uses[0]!.use;
    const count = first.m * first.k;
    let nnz = 0;
    for (const v of constant.value.data) if (v !== 0) nnz++;
    const denseElementBytes = constant.type.dtype === 'f32' ? 4 : 2;
    const report = (kernel: MatmulKernel, bytes: number): void => {
      layers.push({ weight: name, m: first.m, k: first.k, n: uses.map((u) => rowsOf(graphs[u.graph]!, u.use.node)), sparsity: 1 - nnz / count, kernel, denseBytes: count * denseElementBytes, bytes });
    };
    if (count < MIN_ELEMENTS || nnz === count || !uses.every((u) => rewritable(graphs[u.graph]!, u.use))) {
      if (nnz < count) report('dense', count * denseElementBytes);
      continue;
    }
    const csl = encodeTiledCsl(matrixA(constant, first), first.m, first.k, params);
    const sparseBytes = tiledCslBytes(csl);
    const ranked = uses.map((u) => rankKernels(profile, { m: first.m, k: first.k, n: rowsOf(graphs[u.graph]!, u.use.node), nnz, denseElementBytes, sparseBytes }));
    const denseMs = ranked.reduce((s, r) => s + r.find((e) => e.kernel === 'dense')!.ms, 0);
    const bestSparse = ranked.map((r) => r.find((e) => e.kernel !== 'dense')!);
    const sparseMs = bestSparse.reduce((s, e) => s + e.ms, 0);
    if (sparseMs >= denseMs) {
      report('dense', count * denseElementBytes);
      continue;
    }
    const kernels = new Set(bestSparse.map((e) => e.kernel));
    report(kernels.size === 1 ? [...kernels][0]! : 'direct', sparseBytes);
    rewrites.set(name, {
      items: { name: `${name}.csl_items`, type: tensorType('u32', [csl.items.length]), value: makeTensor('u32', [csl.items.length], csl.items) },
      offsets: { name: `${name}.csl_offsets`, type: tensorType('u32', [csl.offsets.length]), value: makeTensor('u32', [csl.offsets.length], csl.offsets) },
      choice: new Map(uses.map((u, i) => [u.use.node, bestSparse[i]!])),
      params,
    });
  }

  const rewritten = graphs.map((g) => {
    const touched = [...rewrites].filter(([name]) => g.constants.some((c) => c.name === name));
    if (!touched.length) return g;
    const nodes = g.nodes.map((node) => {
      const hit = touched.find(([name]) => node.inputs[1] === name && (node.op === 'MatMul' || node.op === 'Gemm'));
      if (!hit) return node;
      const [name, r] = hit;
      const use = byName.get(name)!.uses.find((u) => u.use.node === node)!.use;
      const bias = node.op === 'Gemm' && node.inputs[2] ? [node.inputs[2]] : [];
      const chosen = r.choice.get(node)!;
      const sparseNode: Node = {
        op: 'SparseMatMul',
        inputs: [node.inputs[0]!, r.items.name, r.offsets.name, ...bias],
        outputs: node.outputs,
        attrs: { m: use.m, k: use.k, tile_m: r.params.tileM, tile_k: r.params.tileK, values: r.params.values, variant: chosen.kernel, split_k: 0 },
        ...(node.loc ? { loc: node.loc } : {}),
      };
      return sparseNode;
    });
    const names = new Set(touched.map(([name]) => name));
    const constants = [...g.constants.filter((c) => !names.has(c.name)), ...touched.flatMap(([, r]) => [r.items, r.offsets])];
    const types = new Map(g.types);
    for (const [, r] of touched) {
      types.set(r.items.name, r.items.type);
      types.set(r.offsets.name, r.offsets.type);
    }
    return updateGraph({ ...g, types }, { nodes, constants });
  });
  return { graphs: rewritten, layers };
}
