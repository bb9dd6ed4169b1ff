// The movement kernel: each output element reads one input element at an index computed from its coordinates.
// Transpose, Slice, Expand, Pad, Gather, Trilu, Concat and Split are all instances, differing only in the index
// map baked into the spec:
//   * affine terms (coordinate × multiplier, negative for reversed axes) cover Transpose, Slice, Expand, Split;
//   * pad terms map a coordinate through constant/edge/wrap/reflect padding (out of range: the fill value);
//   * a gather term adds a looked-up row of an i32 index tensor (negative rows count from the end);
//   * a mask keeps an element where it lies on the wanted side of a diagonal (Trilu) and fills it otherwise;
//   * several sources each cover an interval of one axis (Concat, up to 7 inputs per kernel).
// Specs are simplified before hashing (simplifyGatherIndex): size-1 axes go and neighbouring axes that are
// contiguous in every map merge, so a Transpose that only moves blocks prints as a couple of div/mods.
// Unpacked outputs take one invocation per element; packed ones (sub-byte ints, f16 without shader-f16) one per
// storage word, moving raw lane bits so copies are bit-exact. A Concat of more than 7 packed inputs runs several
// dispatches, each rewriting whole words but keeping the lanes it does not cover (`keep`).
// Sizes, multipliers, offsets and intervals are dims: with `dims` in the spec they may name symbols, and the
// kernel reads them from the dims uniform, so one kernel serves every size in the symbols' ranges (unpacked
// outputs only: a packed word's lanes would straddle a run-time boundary). Static specs print as before.
import { dimMul, dimProduct } from '../../ir/dim.js';
import { roundToDType } from '../../ir/dtype.js';
import type { Dim } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import type { DimContext } from '../wgsl/dims.js';
import { T, add, and, builtin, call, convert, div, ge, ident, land, le, lit, lt, mod, mul, mulConst, or, select, shl, shr, sub, sumU32, unary } from '../wgsl/dsl.js';
import { bf16Bits, f16Bits } from '../pack.js';
import { MAX_STORAGE_BINDINGS, type TensorSpec, dimSignParts, unflattenDims } from './lib/index.js';

export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/** How a source's flat index depends on one iteration axis. */
export type AxisTerm =
  /** coordinate × multiplier (symbolic: a dim over the program's symbols, possibly negative) */
  | Dim
  /**
   * The coordinate padded: j = c - lead; 0 <= j < kept reads input index lo + j, anything else is filled by the
   * mode (constant: the fill value); the input index is then × mult.
   */
  | { readonly pad: PadMode; readonly lead: number; readonly lo: number; readonly kept: number; readonly mult: Dim };

export interface SourceMap {
  /** Flat index at coordinate 0 (may be negative when a cover interval does not start at 0). */
  readonly base: Dim;
  /** One term per iteration axis. */
  readonly terms: readonly AxisTerm[];
  /**
   * Gather: plus indices[gather.terms · c] (negative counts from `len` back, then clamped) × mult; with `panel` P,
   * a row j of a table stored in row panels: (j / P) × mult + j % P.
   */
  readonly gather?: { readonly len: Dim; readonly mult: Dim; readonly terms: readonly Dim[]; readonly panel?: number };
  /** Concat: the source supplies coordinates [from, to) of `axis`. */
  readonly covers?: { readonly axis: number; readonly from: Dim; readonly to: Dim };
}

export interface GatherIndexSpec extends KernelSpecBase {
  readonly kernel: 'gather-index';
  /** Present when a dim is symbolic: the kernel binds the dims uniform first and sizes itself at run time. */
  readonly dims?: DimContext;
  readonly output: TensorSpec;
  /** One per source, in source order; then the Gather index tensor, if any. */
  readonly inputs: readonly TensorSpec[];
  readonly indices?: TensorSpec;
  /** The iteration space; its row-major flat index is the output's unless `place` maps it elsewhere. */
  readonly shape: readonly Dim[];
  readonly place?: { readonly base: Dim; readonly terms: readonly Dim[] };
  readonly sources: readonly SourceMap[];
  /** Value (rounded to the output dtype) where no source applies: constant padding, masked-off Trilu elements. */
  readonly fill: number;
  /** Trilu: keep (col - row >= k) when upper, (col - row <= k) otherwise. */
  readonly mask?: { readonly row: number; readonly col: number; readonly upper: boolean; readonly k: number };
  /** Lanes no source covers keep their old value (a packed output written by several dispatches). */
  readonly keep: boolean;
  readonly workgroupSize: number;
}

/** Most inputs one kernel reads: the storage bindings less the output. */
export const MAX_SOURCES = MAX_STORAGE_BINDINGS - 1;

// ---------------------------------------------------------------------------------------------------------
// Simplification

type Column = { size: Dim; pinned: boolean; terms: AxisTerm[] };

/**
 * Drop size-1 axes and merge neighbours (a, b) where every map is affine on both and steps over b contiguously
 * (mult[a] == mult[b] × size[b]). Axes named by a mask or a cover interval are kept as they are.
 */
export function simplifyGatherIndex(spec: GatherIndexSpec): GatherIndexSpec {
  const pinned = new Set<number>();
  if (spec.mask) [spec.mask.row, spec.mask.col].forEach((a) => pinned.add(a));
  for (const s of spec.sources) if (s.covers) pinned.add(s.covers.axis);
  // Every map as one row of terms: place, then each source's terms and gather terms.
  const rows: AxisTerm[][] = [];
  if (spec.place) rows.push([...spec.place.terms]);
  for (const s of spec.sources) {
    rows.push([...s.terms]);
    if (s.gather) rows.push([...s.gather.terms]);
  }
  const affine = (c: Column): boolean => c.terms.every((t) => typeof t !== 'object');
  let cols: (Column & { axis: number })[] = spec.shape.map((size, a) => ({ size, axis: a, pinned: pinned.has(a), terms: rows.map((r) => r[a]!) }));
  cols = cols.filter((c) => c.size !== 1 || c.pinned || !affine(c));
  const merged: (Column & { axis: number })[] = [];
  for (const c of cols) {
    const prev = merged[merged.length - 1];
    // Equal dims print equal, so the test is exact for every value of the symbols.
    const fits = prev && !prev.pinned && !c.pinned && affine(prev) && affine(c) && prev.terms.every((t, r) => t === dimMul(c.terms[r] as Dim, c.size));
    if (fits) merged[merged.length - 1] = { ...c, size: dimMul(prev.size, c.size) };
    else merged.push(c);
  }
  const newAxis = (a: number): number => merged.findIndex((c) => c.axis === a);
  let r = 0;
  const column = (k: number): AxisTerm[] => merged.map((c) => c.terms[k]!);
  const place = spec.place ? { base: spec.place.base, terms: column(r++) as Dim[] } : undefined;
  const sources = spec.sources.map((s): SourceMap => {
    const terms = column(r++);
    const gather = s.gather ? { ...s.gather, terms: column(r++) as Dim[] } : undefined;
    const covers = s.covers ? { ...s.covers, axis: newAxis(s.covers.axis) } : undefined;
    return { base: s.base, terms, ...(gather ? { gather } : {}), ...(covers ? { covers } : {}) };
  });
  const mask = spec.mask ? { ...spec.mask, row: newAxis(spec.mask.row), col: newAxis(spec.mask.col) } : undefined;
  const { place: _p, mask: _m, ...rest } = spec;
  return { ...rest, shape: merged.map((c) => c.size), sources, ...(place ? { place } : {}), ...(mask ? { mask } : {}) };
}

// ---------------------------------------------------------------------------------------------------------
// Generator

const u = lit.u32;
const i32 = (e: Expr): Expr => convert('i32', e);

/** The storage bits of `value` in a packed lane of `dtype`. */
function laneBits(dtype: TensorSpec['dtype'], value: number, bits: number): number {
  if (dtype === 'f16') return f16Bits(value);
  if (dtype === 'bf16') return bf16Bits(value);
  const v = roundToDType(value, dtype);
  return ((v % 2 ** bits) + 2 ** bits) % 2 ** bits;
}

export const gatherIndex: KernelGen<GatherIndexSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const ins = spec.inputs.map((t, i) => k.input(`in${i}`, t));
  const indices = spec.indices && k.input('indices', spec.indices);
  const out = k.output('out', spec.output);
  const total = dimProduct(spec.shape);
  // Packed outputs (and so sources, which share the dtype) move raw lane bits: copies stay bit-exact.
  const { packed } = out;
  if (packed && spec.dims) throw new Error(`gather-index: a ${spec.output.dtype} output is packed; symbolic shapes need an unpacked dtype`);
  /** e × d, for a dim d >= 0 (a literal multiply, folded, when static). */
  const mulDim = (e: Expr, d: Dim): Expr => (typeof d === 'number' ? mulConst(e, d) : mul(e, k.dim(d)));
  /** A dim as an i32 expression (sizes compared with signed coordinates). */
  const dimI32 = (d: Dim, plus = 0): Expr => (typeof d === 'number' ? lit.i32(d + plus) : plus === 0 ? i32(k.dim(d)) : add(i32(k.dim(d)), lit.i32(plus)));
  const { lanes, bits } = out.layout;
  const laneMask = 2 ** bits - 1;
  const fill = packed ? u(laneBits(spec.output.dtype, spec.fill, bits)) : lit.of(out.value, roundToDType(spec.fill, spec.output.dtype));
  const read = (src: TensorAccessor, index: Expr): Expr => {
    if (!packed) return src.load(index);
    const i = ident('i');
    const word = src.loadWord(div(i, u(lanes)));
    const body = [{ kind: 'return', value: and(shr(word, mulConst(mod(i, u(lanes)), bits)), u(laneMask)) } as const];
    return call(k.helper({ kind: 'fn', name: `bits_${src.name}`, params: [{ name: 'i', type: T.u32 }], returns: T.u32, body }), index);
  };

  /** Coordinates of iteration flat index `flat` (each a `let`, emitted where it is first needed). */
  const coordsOf = (flat: Expr): (() => Expr)[] =>
    unflattenDims(flat, spec.shape, (d) => k.dim(d)).map((e, a) => {
      let c: Expr | undefined;
      return () => (c ??= spec.shape.length === 1 ? flat : k.let(`c${a}`, e));
    });

  /** The padded input coordinate (u32) of coordinate c, and whether it is in range (constant mode only). */
  const padded = (c: Expr, t: Exclude<AxisTerm, Dim>): { index: Expr; valid?: Expr } => {
    const j = k.let('j', t.lead === 0 ? i32(c) : sub(i32(c), lit.i32(t.lead)));
    const lo = (e: Expr): Expr => (t.lo === 0 ? convert('u32', e) : add(convert('u32', e), u(t.lo)));
    const wrapped = (period: number): Expr => k.let('r', mod(add(mod(j, lit.i32(period)), lit.i32(period)), lit.i32(period)));
    switch (t.pad) {
      case 'constant':
        return { index: lo(j), valid: land(ge(j, lit.i32(0)), lt(j, lit.i32(t.kept))) };
      case 'edge':
        return { index: lo(builtin('clamp', j, lit.i32(0), lit.i32(t.kept - 1))) };
      case 'wrap':
        return { index: lo(wrapped(t.kept)) };
      case 'reflect': {
        const period = 2 * (t.kept - 1);
        if (period === 0) return { index: u(t.lo) };
        const r = wrapped(period);
        return { index: lo(select(lt(r, lit.i32(t.kept)), r, sub(lit.i32(period), r))) };
      }
    }
  };

  /** The source's flat index and the conditions (constant padding) under which it is read. */
  const sourceIndex = (s: SourceMap, c: (() => Expr)[]): { index: Expr; valid: Expr[] } => {
    const pos: Expr[] = [];
    const neg: Expr[] = [];
    const valid: Expr[] = [];
    // Signed dims split into parts >= 0 (static ones by sign), so every partial sum stays a valid u32.
    const base = dimSignParts(s.base);
    if (base.pos !== 0) pos.push(k.dim(base.pos));
    if (base.neg !== 0) neg.push(k.dim(base.neg));
    s.terms.forEach((t, a) => {
      if (typeof t !== 'object') {
        const { pos: p, neg: n } = dimSignParts(t);
        if (p !== 0) pos.push(mulDim(c[a]!(), p));
        if (n !== 0) neg.push(mulDim(c[a]!(), n));
        return;
      }
      const p = padded(c[a]!(), t);
      if (p.valid) valid.push(p.valid);
      pos.push(mulDim(p.index, t.mult));
    });
    if (s.gather && indices) {
      const { len, mult, terms, panel } = s.gather;
      const row = k.let('row', indices.load(sumU32(terms.map((m, a) => mulDim(c[a]!(), m)))));
      const normal = select(lt(row, lit.i32(0)), add(row, dimI32(len)), row);
      const j = convert('u32', builtin('clamp', normal, lit.i32(0), dimI32(len, -1)));
      if (panel) {
        const jr = k.let('jr', j);
        pos.push(add(mulDim(div(jr, lit.u32(panel)), mult), mod(jr, lit.u32(panel))));
      } else pos.push(mulDim(j, mult));
    }
    const index = neg.length ? sub(sumU32(pos), sumU32(neg)) : sumU32(pos);
    return { index, valid };
  };

  /** The value (raw lane bits when packed) at iteration coordinates c (statements emitted as needed). */
  const valueAt = (c: (() => Expr)[]): Expr => {
    const reads = spec.sources.map((s, n) => ({ s, src: ins[n]!, ...sourceIndex(s, c) }));
    const only = reads[0]!;
    let value: Expr;
    if (reads.length === 1 && only.valid.length === 0) value = read(only.src, only.index);
    else {
      const v = k.var('v', packed ? T.u32 : { kind: 'scalar', scalar: out.value }, fill);
      const readInto = (r: (typeof reads)[number]): void => {
        const put = (): void => k.assign(v, read(r.src, r.index));
        if (r.valid.length) k.if(r.valid.reduce(land), put);
        else put();
      };
      // Sources cover consecutive intervals of their axis, in order: an if / else-if chain on the upper bounds.
      const chain = (n: number): void => {
        const r = reads[n]!;
        if (n === reads.length - 1 || !r.s.covers) readInto(r);
        else k.if(lt(c[r.s.covers.axis]!(), k.dim(r.s.covers.to)), () => readInto(r), () => chain(n + 1));
      };
      chain(0);
      value = v;
    }
    if (spec.mask) {
      const { row, col, upper, k: diag } = spec.mask;
      const d = sub(i32(c[col]!()), i32(c[row]!()));
      value = select(upper ? ge(d, lit.i32(diag)) : le(d, lit.i32(diag)), value, fill);
    }
    return value;
  };

  if (!packed) {
    const i = k.globalIndexDim(total);
    k.if(lt(i, k.dim(total)), () => {
      const c = coordsOf(i);
      const at = spec.place ? sumU32([k.dim(spec.place.base), ...spec.place.terms.map((m, a) => mulDim(c[a]!(), m))]) : i;
      out.store(at, valueAt(c));
    });
    return k.finish();
  }
  if (spec.place) throw new Error('gather-index: a packed output is written in place order only');
  // One invocation per output word. With `keep`, lanes outside the sources' interval keep their bits.
  const covers = spec.keep ? [spec.sources[0]!.covers!, spec.sources[spec.sources.length - 1]!.covers!] : undefined;
  const w = k.globalIndex(out.words);
  k.if(lt(w, u(out.words)), () => {
    const word = k.var('word', T.u32, covers ? out.loadWord(w) : u(0));
    k.for('lane', u(0), u(lanes), (l) => {
      const flat = k.let('e', add(mulConst(w, lanes), l));
      const shift = mulConst(l, bits);
      const cleared = covers ? and(word, unary('~', shl(u(laneMask), shift))) : word;
      const put = (): void => {
        const c = coordsOf(flat);
        const set = (): void => k.assign(word, or(cleared, shl(valueAt(c), shift)));
        if (!covers) return set();
        const at = c[covers[0]!.axis]!();
        k.if(land(ge(at, k.dim(covers[0]!.from)), lt(at, k.dim(covers[1]!.to))), set);
      };
      if (out.numel % lanes === 0) put();
      else if (covers) k.if(lt(flat, u(out.numel)), put, () => k.assign(word, cleared));
      else k.if(lt(flat, u(out.numel)), put);
    });
    out.storeWord(w, word);
  });
  return k.finish();
};
