// What the weights pages hold for a constant: its stored tensor, as plain constants the page planner packs. A
// plain constant is itself; a layout or quant-encoded one is its storage (codes, planes or reordered values) under
// its own name; a Tiled-CSL one is two parts, offsets and items, planned as separate segments so each binds on its
// own aligned offset (the sparse kernels bind them as two arrays; compiler/lower/sparse-lowerings.ts cslPart).
import { type ConstantDecl, cslOffsetWords, isPlainStorage, makeTensor, tensorType } from '../../ir/index.js';
import { cslPart } from '../lower/sparse-lowerings.js';

export function storageDecls(c: ConstantDecl): ConstantDecl[] {
  if (isPlainStorage(c.type)) return [c];
  const v = c.value;
  // The verifier refuses layouts and encodings on checkpoint tensors, so an encoded constant is always inline.
  if (!v) throw new Error(`constant %${c.name} has a layout or encoding but no inline data`);
  if (c.type.encoding.kind === 'tiled-csl') {
    const off = cslOffsetWords(c.type);
    const part = (name: string, data: Float64Array): ConstantDecl => ({ name, type: tensorType('u32', [data.length]), value: makeTensor('u32', [data.length], data) });
    return [part(cslPart(c.name, 'offsets'), v.data.subarray(0, off)), part(cslPart(c.name, 'items'), v.data.subarray(off))];
  }
  return [{ name: c.name, type: tensorType(v.dtype, v.shape), value: v }];
}
