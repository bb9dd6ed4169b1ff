// arrange-layout (papers.md §4): every matmul or conv weight whose uses are all GEMVs (or GEMMs, or convs as
// implicit GEMMs) the arranged kernels read in place (passes/layout/arrangement.ts; in every entry of the program,
// directly or through store-weights-f16's Cast) is
// costed row-major and as panels of each candidate width (passes/layout/cost.ts, over the target's device
// profile), and rewritten at compile time into the cheapest one's exact storage order. The weight keeps its name,
// dtype and logical shape; only `layout` changes (and its stored data), so the interpreter, which decodes layouts
// before ops read, computes bit-identical results. Weights read by anything else stay row-major (converting
// them would need a Materialize per run). A weight still in a checkpoint file keeps its file reference and gets
// only the layout: the packer reorders it as it writes the artifact (compiler/memory/storage-decls.ts).
// Quant codes read only by the quant GEMV get its quad layout (passes/layout/quad-codes.ts): 16-byte blocks of 4
// rows per K step, next to the neighbouring lanes' blocks.
// `layout=row-major` turns the pass off: the baseline of benchmarks and of the arranged-vs-row-major tests.
import { type ConstantDecl, type Graph, type TensorType, consumers, encodeStored, isFloat, isPlainStorage, tensorType, updateGraph } from '../ir/index.js';
import { type GemvUse, gathersRows, gemvUsesVia, panelLayout } from './layout/arrangement.js';
import { type GemvShape, rankLayouts } from './layout/cost.js';
import { quadArranged } from './layout/quad-codes.js';
import { EXACT, type Pass, PassOptionError, bump, onlyKeys } from './pass.js';
import { DEFAULT_MAX_BINDING_BYTES } from './split-oversized-weights.js';

export interface ArrangeLayoutOptions {
  /** auto: the cost model chooses per weight; row-major: leave every weight as it is. */
  readonly layout: 'auto' | 'row-major';
}

function readOptions(raw: Readonly<Record<string, unknown>>): ArrangeLayoutOptions {
  onlyKeys('arrange-layout', raw, ['layout']);
  const layout = raw.layout ?? 'auto';
  if (layout !== 'auto' && layout !== 'row-major') throw new PassOptionError(`arrange-layout layout must be 'auto' or 'row-major', got '${String(layout)}'`);
  return { layout };
}

/** Every GEMV use of constant `name` in graph g; undefined when some reader cannot read an arrangement in place. */
export function weightGemvUses(g: Graph, name: string): GemvUse[] | undefined {
  const readers = consumers(g);
  const outputs = new Set(g.outputs);
  const typeOf = (v: string): TensorType | undefined => g.types.get(v);
  const rs = readers.get(name) ?? [];
  if (!rs.length || outputs.has(name)) return undefined;
  const uses: GemvUse[] = [];
  for (const r of rs) {
    // A node reading the weight twice (Add(w, w)) is no GEMV; gemvUse refuses x === w, this refuses repeats.
    if (r.inputs.filter((v) => v === name).length !== 1) return undefined;
    const u = gemvUsesVia(r, name, typeOf, readers, outputs);
    if (!u) return undefined;
    uses.push(...u);
  }
  // Row gathers read row panels only: the matmuls must read the tensor as [M, K] (Gemm transB) too.
  if (rs.some((r) => gathersRows(r, name, typeOf)) && uses.some((u) => u.transposed)) return undefined;
  return uses;
}

const candidate = (c: ConstantDecl): boolean =>
  (c.value !== undefined || c.external !== undefined) && isPlainStorage(c.type) && isFloat(c.type.dtype) && (c.type.dtype === 'f32' || c.type.dtype === 'f16') && c.type.shape.length >= 2;

export const arrangeLayout: Pass<ArrangeLayoutOptions> = {
  name: 'arrange-layout',
  summary: 'Store GEMV weights in panels of P outputs, K-major inside (the arranged kernel\'s read order) where the traffic model says it moves fewer bytes; quant codes only the quant GEMV reads in quad blocks.',
  tolerance: EXACT,
  options: readOptions,
  run(g, cx) {
    if (cx.options.layout === 'row-major') return g;
    const arranged = new Map<string, ConstantDecl>();
    for (const c of g.constants) {
      const quad = quadArranged(c, cx.program.length ? cx.program : [g]);
      if (quad) {
        arranged.set(c.name, quad);
        bump(cx, 'codes-arranged');
        continue;
      }
      if (!candidate(c)) continue;
      const uses: GemvUse[] = [];
      let ok = true;
      for (const graph of cx.program.length ? cx.program : [g]) {
        if (!graph.constants.some((o) => o.name === c.name)) continue;
        const u = weightGemvUses(graph, c.name);
        if (!u) ok = false;
        else uses.push(...u);
      }
      if (!ok || !uses.length || !uses.every((u) => u.transposed === uses[0]!.transposed)) continue;
      const elemBytes = c.type.dtype === 'f32' ? 4 : 2;
      const shapes: GemvShape[] = uses.map((u) => ({ m: u.m, k: u.k, rows: u.rows, elemBytes, transposed: u.transposed }));
      // Panels pad the output axis to a multiple of P: a choice whose padded weight would no longer fit one storage
      // binding (split-oversized-weights sized the blocks to the limit) is passed over.
      const limit = cx.target.limits.maxStorageBufferBindingSize ?? DEFAULT_MAX_BINDING_BYTES;
      const fits = (panel: number): boolean => panel === 0 || Math.ceil(uses[0]!.m / panel) * panel * uses[0]!.k * elemBytes <= limit;
      const best = rankLayouts(cx.target.profile, shapes).find((r) => fits(r.panel));
      if (!best) continue;
      if (best.panel === 0) {
        bump(cx, 'weights-kept-row-major');
        continue;
      }
      const type = tensorType(c.type.dtype, c.type.shape, panelLayout(uses[0]!.transposed, best.panel));
      arranged.set(c.name, c.value ? { ...c, type, value: encodeStored(type, c.value) } : { ...c, type });
      bump(cx, 'weights-arranged');
      bump(cx, `panel-${best.panel}`);
    }
    if (!arranged.size) return g;
    const types = new Map(g.types);
    for (const [name, c] of arranged) types.set(name, c.type);
    return updateGraph({ ...g, types }, { constants: g.constants.map((c) => arranged.get(c.name) ?? c) });
  },
};
