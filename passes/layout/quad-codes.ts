// The quad layout for quant codes read only by the quant GEMV (passes/bits/quant-in-place.ts quadLayout): where
// every reader of a packed quant weight, in every entry, is a MatMul/Gemm the kernel reads with rows as vector
// components, arrange-layout stores the codes in 16-byte blocks of 4 rows per K step, so the lanes of a workgroup
// stream one contiguous range instead of 256 rows at 256 addresses (lavapipe, bench:bits w4f16 4096 x 4096, same
// process: 8.2 -> 6.6 ms from this alone; the rows' own loads are the bulk of the kernel's instructions). On a GPU
// the same order coalesces. The codes are re-ordered exactly; scales and zero points keep their order.
import { type ConstantDecl, type Graph, type TensorType, consumers, fromLayout, layoutElements, makeTensor, matmulOperands, quantCodeDType, tensorType, toLayout } from '../../ir/index.js';
import { codesPerWord } from '../../ir/dtype.js';
import { quadLayout, quadReadable, quantGatherReadable, quantGemvUse } from '../bits/quant-in-place.js';

/** Output rows below which the GEMV keeps fewer rows per lane than a quad block: left row by row. */
const MIN_ROWS = 256;

/** Whether every reader of constant `name` in g is a quant GEMV that would read its quad layout, and its orientation. */
function quadUses(g: Graph, name: string): { transposed: boolean } | undefined {
  const typeOf = (v: string): TensorType | undefined => g.types.get(v);
  const readers = consumers(g).get(name) ?? [];
  if (!readers.length || g.outputs.includes(name)) return undefined;
  let transposed: boolean | undefined;
  // A row Gather of the table (a tied embedding) reads the by-row quad layout too; the GEMVs decide.
  const gemvs = readers.filter((r) => !quantGatherReadable(r, name, typeOf));
  if (!gemvs.length) return undefined;
  for (const r of gemvs) {
    const use = quantGemvUse(r, name, typeOf);
    if (!use || r.inputs.filter((v) => v === name).length !== 1 || use.m < MIN_ROWS || !quadReadable(use.bits) || typeOf(use.x)?.dtype !== 'f32') return undefined;
    const t = matmulOperands(r, typeOf)!.transposed;
    if (transposed !== undefined && transposed !== t) return undefined;
    transposed = t;
  }
  // Gathers read rows of [V, D]: only the Gemm transB (by-row) orientation is one they can take.
  if (transposed === undefined || (gemvs.length < readers.length && transposed)) return undefined;
  return { transposed };
}

/** The constant with its codes in the quad layout, where all its readers (over the program's graphs) take it. */
export function quadArranged(c: ConstantDecl, graphs: readonly Graph[]): ConstantDecl | undefined {
  const e = c.type.encoding;
  if (e.kind !== 'quant' || e.params.packing !== 'packed' || !c.value || c.type.shape.length !== 2) return undefined;
  if (c.type.layout.kind !== 'row-major' && c.type.layout.kind !== 'transposed') return undefined;
  let transposed: boolean | undefined;
  for (const g of graphs) {
    if (!g.constants.some((o) => o.name === c.name)) continue;
    const u = quadUses(g, c.name);
    if (!u || (transposed !== undefined && u.transposed !== transposed)) return undefined;
    transposed = u.transposed;
  }
  if (transposed === undefined) return undefined;
  const shape = c.type.shape as number[];
  const layout = quadLayout(transposed, codesPerWord(e.params.bits));
  const type = tensorType(c.type.dtype, shape, layout, e);
  const codes = toLayout(layout, shape, fromLayout(c.type.layout, shape, c.value.data));
  return { ...c, type, value: makeTensor(quantCodeDType(e.params), [layoutElements(layout, shape)], codes) };
}
