// Symbolic folding of shape arithmetic. Exporters compute shapes at run time (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape, Shape -> Slice -> Mul -> Concat, ...); with symbolic dims those values are small integer
// tensors whose entries are dims (ir/dim.ts) rather than numbers. The importer keeps them as SymTensors and folds
// the ops below over them, so the chain ends in an attribute with symbolic entries (Reshape{shape=[batch,-1,2,1]})
// and never reaches the graph. Ops outside this table, or data-dependent uses, make the importer refuse with the
// symbols named, since they would need the value at run time.
import {
  canonicalDim,
  dimAdd,
  dimDivExact,
  dimFloorDiv,
  dimMul,
  dimSub,
} from '../../dim.js';
import type { Attrs } from '../../graph.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';

/** An integer tensor of rank 0 or 1 whose entries may be symbolic. */
export interface SymTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly dims: readonly Dim[];
}

export const symOfTensor = (t: Tensor): SymTensor => ({ dtype: t.dtype, shape: t.shape, dims: Array.from(t.data) });

const isInt = (dtype: string): boolean => /^[iu]\d+$/.test(dtype);

const vec = (dtype: string, dims: readonly Dim[], scalar = false): SymTensor => ({ dtype, shape: scalar ? [] : [dims.length], dims: dims.map(canonicalDim) });

/** Elementwise integer arithmetic with a scalar broadcast; Div is floor division (dims are non-negative). */
function arith(op: string, a: SymTensor, b: SymTensor): SymTensor | undefined {
  const n = Math.max(a.dims.length, b.dims.length);
  if (a.dims.length !== n && a.dims.length !== 1) return undefined;
  if (b.dims.length !== n && b.dims.length !== 1) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a.dims[a.dims.length === 1 ? 0 : i]!;
    const y = b.dims[b.dims.length === 1 ? 0 : i]!;
    let r: Dim | undefined;
    if (op === 'Add') r = dimAdd(x, y);
    else if (op === 'Sub') r = dimSub(x, y);
    else if (op === 'Mul') r = dimMul(x, y);
    else if (typeof y === 'number' && y > 0) r = dimDivExact(x, y) ?? dimFloorDiv(x, y);
    else r = dimDivExact(x, y);
    if (r === undefined) return undefined;
    out.push(r);
  }
  return vec(a.dtype, out, a.shape.length === 0 && b.shape.length === 0);
}

const intsAttr = (attrs: Attrs, name: string): readonly number[] | undefined => attrs[name] as readonly number[] | undefined;

/**
 * Fold IR op `op` (as the importer emits it) over symbolic inputs; undefined when the op or this use of it is not
 * shape arithmetic.
 */
export function foldSymbolic(op: string, ins: readonly (SymTensor | undefined)[], attrs: Attrs): SymTensor[] | undefined {
  const [a, b] = ins;
  if (!a || a.shape.length > 1) return undefined;
  switch (op) {
    case 'Cast': {
      const to = attrs.to as string;
      return isInt(to) ? [{ ...a, dtype: to }] : undefined;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      if (!b || b.shape.length > 1 || !isInt(a.dtype)) return undefined;
      const r = arith(op, a, b);
      return r && [r];
    }
    case 'Unsqueeze':
      return a.shape.length === 0 ? [vec(a.dtype, a.dims)] : undefined;
    case 'Squeeze':
    case 'Reshape':
      // Only the rank-0 <-> one-element forms (a scalar taken out of a shape vector, or put back).
      if (a.dims.length !== 1) return op === 'Reshape' && a.shape.length === 1 ? [a] : undefined;
      return [vec(a.dtype, a.dims, op === 'Squeeze' || (intsAttr(attrs, 'shape')?.length ?? 1) === 0)];
    case 'Concat': {
      if (ins.some((t) => !t || t.shape.length !== 1)) return undefined;
      return [vec(a.dtype, ins.flatMap((t) => t!.dims))];
    }
    case 'Gather': {
      if (!b || a.shape.length !== 1 || b.dims.some((d) => typeof d !== 'number')) return undefined;
      const pick = (b.dims as number[]).map((i) => a.dims[i < 0 ? i + a.dims.length : i]);
      if (pick.some((d) => d === undefined)) return undefined;
      return [vec(a.dtype, pick as Dim[], b.shape.length === 0)];
    }
    case 'Slice': {
      if (a.shape.length !== 1) return undefined;
      const [start, end, step] = [intsAttr(attrs, 'starts')?.[0] ?? 0, (attrs.ends as readonly Dim[])[0]!, intsAttr(attrs, 'steps')?.[0] ?? 1];
      if (typeof end !== 'number' || step !== 1) return undefined;
      const n = a.dims.length;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      return [vec(a.dtype, a.dims.slice(clamp(start), clamp(end)))];
    }
    default:
      return undefined;
  }
}
