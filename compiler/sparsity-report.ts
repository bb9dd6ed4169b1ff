// The manifest's per-layer sparsity report (shown by `kiln inspect`): every matmul weight with zeros, its sparsity,
// the bytes dense and as stored, and the kernel that reads it, which for a Tiled-CSL weight is the lowering's choice
// recorded on its steps (compiler/lower/sparse-lowerings.ts) and for a weight left dense is 'dense'.
import { type ConstantDecl, type Graph, decodeStored, isPlainStorage, matmulOperands } from '../ir/index.js';
import { matmulWeights, rowsOf } from '../passes/index.js';
import type { Manifest } from '../runtime/plan.js';
import type { Schedule } from './lower/schedule.js';

type Layer = NonNullable<Manifest['sparsity']>['layers'][number];

function zerosOf(c: ConstantDecl, valueOf: (n: string) => ConstantDecl | undefined): { nnz: number; count: number } {
  const logical = isPlainStorage(c.type) ? c.value! : decodeStored(c.type, c.value!, (n) => valueOf(n)!.value!);
  let nnz = 0;
  for (const v of logical.data) if (v !== 0) nnz++;
  return { nnz, count: logical.data.length };
}

export function sparsityLayers(entries: readonly { graph: Graph; schedule: Schedule }[]): Layer[] {
  const layers = new Map<string, Layer>();
  for (const { graph, schedule } of entries) {
    const decls = new Map(graph.constants.map((c) => [c.name, c]));
    const typeOf = (v: string) => graph.types.get(v);
    const add = (c: ConstantDecl, x: string, m: number, k: number, kernel: string, bytes: number): void => {
      const prev = layers.get(c.name);
      if (prev) return void layers.set(c.name, { ...prev, n: [...prev.n, rowsOf(graph, x)] });
      const { nnz, count } = zerosOf(c, (n) => decls.get(n));
      if (nnz === count && kernel === 'dense') return;
      const denseBytes = count * (c.type.dtype === 'f32' ? 4 : 2);
      layers.set(c.name, { weight: c.name, m, k, n: [rowsOf(graph, x)], sparsity: 1 - nnz / count, kernel, denseBytes, bytes: bytes || denseBytes });
    };
    const seen = new Set<unknown>();
    for (const step of schedule.steps) {
      if (!step.sparse || seen.has(step.node)) continue;
      seen.add(step.node);
      const use = matmulOperands(step.node, typeOf)!;
      const c = decls.get(step.sparse.weight)!;
      add(c, use.x, use.m, use.k, step.sparse.variant, c.value!.data.length * 4);
    }
    for (const w of matmulWeights(graph, { arranged: true })) for (const u of w.uses) if (w.constant.value) add(w.constant, u.x, u.m, u.k, 'dense', 0);
  }
  return [...layers.values()];
}
