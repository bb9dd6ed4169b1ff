// What the weights pages hold for a constant: its stored tensor, as plain constants the page planner packs. A
// plain constant is itself; a layout or quant-encoded one is its storage (codes, planes or reordered values) under
// its own name; a Tiled-CSL one is two parts, offsets and items, planned as separate segments so each binds on its
// own aligned offset (the sparse kernels bind them as two arrays; compiler/lower/sparse-lowerings.ts cslPart).
import { type ConstantDecl, type TensorType, cslOffsetWords, isPlainStorage, layoutStorageShape, makeTensor, tensorType } from '../../ir/index.js';
import { cslPart } from '../lower/sparse-lowerings.js';

/** A stored constant; `arrangeFrom`: a checkpoint tensor (read logical) to put in this layout as it is packed. */
export interface StoredDecl extends ConstantDecl {
  readonly arrangeFrom?: TensorType;
}

export function storageDecls(c: ConstantDecl): StoredDecl[] {
  if (isPlainStorage(c.type)) return [c];
  const v = c.value;
  // A checkpoint tensor with a layout (arrange-layout): its file holds it row-major; the packer reorders it then,
  // one tensor at a time, so a large checkpoint is never loaded whole. The verifier refuses encodings on them.
  if (!v && c.external && c.type.encoding.kind === 'dense')
    return [{ name: c.name, type: tensorType(c.type.dtype, layoutStorageShape(c.type.layout, c.type.shape as number[])), external: c.external, arrangeFrom: c.type }];
  if (!v) throw new Error(`constant %${c.name} has a layout or encoding but no inline data`);
  if (c.type.encoding.kind === 'tiled-csl') {
    const off = cslOffsetWords(c.type);
    const part = (name: string, data: Float64Array): ConstantDecl => ({ name, type: tensorType('u32', [data.length]), value: makeTensor('u32', [data.length], data) });
    return [part(cslPart(c.name, 'offsets'), v.data.subarray(0, off)), part(cslPart(c.name, 'items'), v.data.subarray(off))];
  }
  return [{ name: c.name, type: tensorType(v.dtype, v.shape), value: v }];
}
