// Symbolic folding of shape arithmetic. Exporters compute shapes at run time (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape, Shape -> Slice -> Mul -> Concat, ...); with symbolic dims those values are small integer
// tensors whose entries are dims (ir/dim.ts) rather than numbers. The importer keeps them as SymTensors and folds
// the ops below over them, so the chain ends in an attribute with symbolic entries (Reshape{shape=[batch,-1,2,1]})
// and never reaches the graph. Ops outside this table, or data-dependent uses, make the importer refuse with the
// symbols named, since they would need the value at run time.
// Float shape arithmetic (Shape -> Cast(float) -> Mul(2.0) -> Floor -> Cast(int64), the way exporters compute
// Resize sizes) folds too, as exact rationals: each float entry is a dim numerator over a positive integer
// denominator, and Floor/Ceil/Cast-to-int turn it back into a dim ('1.5*h' floors to '((3*h)//2)'). A float
// constant takes part only when it is a multiple of 1/256 (2.0, 0.5, 1.5, ...): for those, and for divisions by
// integer-valued floats, the model's own float arithmetic on dims (non-negative integers far below 2^20) rounds
// to exactly what the rational says, so folding changes no result. Anything else is left unfolded.
import {
  canonicalDim,
  dimAdd,
  dimCeilDiv,
  dimDivExact,
  dimFloorDiv,
  dimMul,
  dimSub,
  dimTerms,
} from '../../dim.js';
import type { Attrs } from '../../graph.js';
import type { Dim } from '../../shape.js';
import type { Tensor } from '../../tensor.js';

/** An integer (or exact float) tensor of rank 0 or 1 whose entries may be symbolic. */
export interface SymTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Entries; for a float tensor with `den`, the numerators. */
  readonly dims: readonly Dim[];
  /** Float tensors only: each entry's positive integer denominator (absent when every one is 1). */
  readonly den?: readonly number[];
}

export const symOfTensor = (t: Tensor): SymTensor => ({ dtype: t.dtype, shape: t.shape, dims: Array.from(t.data) });

const isInt = (dtype: string): boolean => /^[iu]\d+$/.test(dtype);
const isFloat = (dtype: string): boolean => /^(f16|f32|f64|bf16)$/.test(dtype);

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

// ---- exact float arithmetic --------------------------------------------------------------------------------

interface Rational {
  readonly num: Dim;
  readonly den: number;
}

/** Largest denominator a float constant may have (see the header): 2.0, 0.5, 0.125, 1.5 pass, 0.1 does not. */
const CONST_DEN = 256;
/** Largest denominator a folded value may reach. */
const MAX_DEN = 1 << 16;

const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));

/** num/den in lowest terms (the gcd of the denominator and every coefficient divided out). */
function reduced(num: Dim, den: number): Rational | undefined {
  if (!Number.isSafeInteger(den) || den <= 0 || den > MAX_DEN) return undefined;
  const coefs = typeof num === 'number' ? [num] : dimTerms(num).map((t) => t.coef);
  if (coefs.some((c) => !Number.isSafeInteger(c))) return undefined;
  const g = coefs.reduce(gcd, den);
  return g === 1 ? { num, den } : { num: dimDivExact(num, g)!, den: den / g };
}

/** A float entry as a rational: a symbolic numerator as is, a number only when it is a multiple of 1/CONST_DEN. */
function rationalOf(t: SymTensor, i: number): Rational | undefined {
  const d = t.dims[i]!;
  const den = t.den?.[i] ?? 1;
  if (typeof d !== 'number' || Number.isInteger(d)) return reduced(d, den);
  if (den !== 1 || !Number.isFinite(d)) return undefined;
  const scaled = d * CONST_DEN;
  return Number.isSafeInteger(scaled) ? reduced(scaled, CONST_DEN) : undefined;
}

function rationalStep(op: string, x: Rational, y: Rational): Rational | undefined {
  switch (op) {
    case 'Add':
      return reduced(dimAdd(dimMul(x.num, y.den), dimMul(y.num, x.den)), x.den * y.den);
    case 'Sub':
      return reduced(dimSub(dimMul(x.num, y.den), dimMul(y.num, x.den)), x.den * y.den);
    case 'Mul':
      return reduced(dimMul(x.num, y.num), x.den * y.den);
    case 'Div': {
      if (typeof y.num === 'number') return y.num > 0 ? reduced(dimMul(x.num, y.den), x.den * y.num) : undefined;
      // By a symbolic value: only an exact quotient (2*h / h), which has no denominator left to track.
      const q = dimDivExact(dimMul(x.num, y.den), y.num);
      return q === undefined ? undefined : reduced(q, x.den);
    }
    default:
      return undefined;
  }
}

/** Elementwise float arithmetic with a scalar broadcast, exact over rationals. */
function floatArith(op: string, a: SymTensor, b: SymTensor): SymTensor | undefined {
  const n = Math.max(a.dims.length, b.dims.length);
  if ((a.dims.length !== n && a.dims.length !== 1) || (b.dims.length !== n && b.dims.length !== 1)) return undefined;
  const out: Rational[] = [];
  for (let i = 0; i < n; i++) {
    const x = rationalOf(a, a.dims.length === 1 ? 0 : i);
    const y = rationalOf(b, b.dims.length === 1 ? 0 : i);
    const r = x && y && rationalStep(op, x, y);
    if (!r) return undefined;
    out.push(r);
  }
  return floatVec(a.dtype, out, a.shape.length === 0 && b.shape.length === 0);
}

function floatVec(dtype: string, entries: readonly Rational[], scalar: boolean): SymTensor {
  const t = vec(dtype, entries.map((r) => r.num), scalar);
  return entries.every((r) => r.den === 1) ? t : { ...t, den: entries.map((r) => r.den) };
}

/** Floor or Ceil of every entry: an integral float tensor (a dim per entry). */
function rounded(t: SymTensor, round: (num: Dim, den: number) => Dim): SymTensor | undefined {
  const out: Rational[] = [];
  for (let i = 0; i < t.dims.length; i++) {
    const r = rationalOf(t, i);
    if (!r) return undefined;
    out.push({ num: r.den === 1 ? r.num : round(r.num, r.den), den: 1 });
  }
  return floatVec(t.dtype, out, t.shape.length === 0);
}

const intsAttr = (attrs: Attrs, name: string): readonly number[] | undefined => attrs[name] as readonly number[] | undefined;

/**
 * Fold IR op `op` (as the importer emits it) over symbolic inputs; undefined when the op or this use of it is not
 * shape arithmetic.
 */
export function foldSymbolic(op: string, ins: readonly (SymTensor | undefined)[], attrs: Attrs): SymTensor[] | undefined {
  const [a, b] = ins;
  if (!a || a.shape.length > 1) return undefined;
  // The movement ops below carry entries but not denominators: a float value not yet made whole stays unfolded.
  if (ins.some((t) => t?.den) && !['Cast', 'Floor', 'Ceil', 'Add', 'Sub', 'Mul', 'Div'].includes(op)) return undefined;
  switch (op) {
    case 'Cast': {
      const to = attrs.to as string;
      if (isInt(a.dtype)) return isInt(to) || isFloat(to) ? [{ ...a, dtype: to }] : undefined;
      if (!isFloat(a.dtype)) return undefined;
      if (isFloat(to)) return [a];
      // Float to int truncates, which is the floor of a non-negative value (the dims this arithmetic sees).
      const r = isInt(to) ? rounded(a, dimFloorDiv) : undefined;
      return r && [{ dtype: to, shape: r.shape, dims: r.dims }];
    }
    case 'Floor':
    case 'Ceil': {
      if (!isFloat(a.dtype)) return undefined;
      const r = rounded(a, op === 'Floor' ? dimFloorDiv : dimCeilDiv);
      return r && [r];
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      if (!b || b.shape.length > 1) return undefined;
      const r = isInt(a.dtype) ? arith(op, a, b) : isFloat(a.dtype) && isFloat(b.dtype) ? floatArith(op, a, b) : undefined;
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
