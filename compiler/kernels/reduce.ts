// Reductions (ReduceSum/Mean/Max/Min, ArgMax; GlobalAveragePool is a ReduceMean) as one generic generator, plus
// the workgroup machinery the other row-wise kernels (softmax, layer-norm, cumsum) share.
//
// The input is seen as (kept dims) x (reduced dims): size-1 axes dropped, neighbouring axes of the same kind
// merged, each group with its baked stride, so any axes set (contiguous or not) is plain index math. A workgroup
// of tx*ty invocations computes tx outputs; the ty lanes of each output stride through its reduced elements, then
// combine their partials with a tree in workgroup memory (a barrier between levels). When the reduced axes are
// innermost the lanes of an output read consecutive memory (y varies fastest); otherwise consecutive outputs do
// (x fastest). A huge reduction with few outputs is split: stage 'partial' writes `split` partials per output
// to scratch and stage 'combine' reduces them, so many workgroups share the long rows.
import { type DType, dtypeInfo, intRange } from '../../ir/dtype.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { add, builtin, call, convert, div, eq, gt, ident, index, land, lit, lor, lt, member, mod, mul, mulConst, ne, not, select, shr, sumU32 } from '../wgsl/dsl.js';
import { fromCompute, toCompute } from './convert-wgsl.js';
import type { TensorSpec } from './elementwise.js';

// ---- views: a tensor as (kept) x (reduced) axis groups ---------------------------------------------------------

/** A merged group of axes: how many elements it spans and its stride (in elements) in the tensor. */
export interface Dim {
  readonly size: number;
  readonly stride: number;
}

export interface ReduceView {
  /** Kept groups, outermost first: output element o is their mixed-radix index. */
  readonly kept: readonly Dim[];
  /** Reduced groups, outermost first: reduced element r is their mixed-radix index. */
  readonly reduced: readonly Dim[];
  /** The reduced elements of an output are consecutive in memory (the innermost group is reduced). */
  readonly contiguous: boolean;
  /** Size of the innermost group when it is kept (consecutive outputs are consecutive in memory), else 1. */
  readonly run: number;
}

export const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

export function reduceView(shape: readonly number[], axes: readonly number[]): ReduceView {
  const groups: { size: number; reduced: boolean }[] = [];
  shape.forEach((d, a) => {
    if (d === 1) return;
    const reduced = axes.includes(a);
    const last = groups[groups.length - 1];
    if (last && last.reduced === reduced) last.size *= d;
    else groups.push({ size: d, reduced });
  });
  let stride = 1;
  const dims = groups
    .reverse()
    .map((g) => {
      const dim = { ...g, stride };
      stride *= g.size;
      return dim;
    })
    .reverse();
  const strip = ({ size, stride: s }: Dim): Dim => ({ size, stride: s });
  const innermost = dims[dims.length - 1];
  return {
    kept: dims.filter((d) => !d.reduced).map(strip),
    reduced: dims.filter((d) => d.reduced).map(strip),
    contiguous: innermost?.reduced ?? true,
    run: innermost && !innermost.reduced ? innermost.size : 1,
  };
}

/** The memory offset (u32) of mixed-radix index `flat` over `dims` (flat < product of the sizes). */
export function radixOffset(flat: Expr, dims: readonly Dim[]): Expr {
  const terms: Expr[] = [];
  let inner = 1;
  for (let g = dims.length - 1; g >= 0; g--) {
    const { size, stride } = dims[g]!;
    let coord = inner === 1 ? flat : div(flat, lit.u32(inner));
    if (g > 0) coord = mod(coord, lit.u32(size));
    terms.push(mulConst(coord, stride));
    inner *= size;
  }
  return sumU32(terms.reverse());
}

// ---- lanes: a workgroup as tx outputs x ty lanes ----------------------------------------------------------------

export interface Lanes {
  readonly tx: number;
  readonly ty: number;
  /** x varies fastest with the invocation index (consecutive outputs adjacent), else y. */
  readonly xFast: boolean;
}

export const MAX_WORKGROUP = 256;
const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/**
 * Lanes for `outputs` rows of `len` elements each. Contiguous rows: up to 256 lanes per row, several rows per
 * workgroup when rows are short. Strided rows (`run` consecutive outputs adjacent in memory): up to 32 outputs
 * side by side, so each lane step reads consecutive words.
 */
export function chooseLanes(outputs: number, len: number, contiguous: boolean, run = 1): Lanes {
  if (contiguous) {
    const ty = Math.min(MAX_WORKGROUP, pow2(len));
    return { tx: Math.min(MAX_WORKGROUP / ty, pow2(outputs)), ty, xFast: false };
  }
  const tx0 = Math.min(32, pow2(run), pow2(outputs));
  const ty = Math.min(MAX_WORKGROUP / tx0, pow2(len));
  return { tx: Math.min(MAX_WORKGROUP / ty, pow2(outputs)), ty, xFast: true };
}

export interface LaneCoords {
  /** Invocation index in the workgroup. */
  readonly lid: Expr;
  /** Which of the workgroup's tx rows. */
  readonly x: Expr;
  /** Lane within the row, 0..ty-1. */
  readonly y: Expr;
  /**
   * 1, but not known to the shader compiler (num_workgroups.z, 1 in every dispatch, clamped). Loop bounds are
   * multiplied by it: LLVM-based drivers (lavapipe) fully unroll constant-trip loops, and with barriers inside
   * that multiplies compile time (19 s instead of 0.6 s for a scan over 10 chunks).
   */
  readonly one: Expr;
}

/** The lane coordinates; call at the top level of the kernel, before any other statement that uses them. */
export function laneCoords(k: KernelBuilder, { tx, ty, xFast }: Lanes): LaneCoords {
  const lid = k.builtinInput('local_invocation_index');
  const one = k.let('one', builtin('min', member(k.builtinInput('num_workgroups'), 'z'), lit.u32(1)));
  const x = tx === 1 ? lit.u32(0) : ty === 1 ? lid : k.let('lx', xFast ? mod(lid, lit.u32(tx)) : div(lid, lit.u32(ty)));
  const y = ty === 1 ? lit.u32(0) : tx === 1 ? lid : k.let('ly', xFast ? div(lid, lit.u32(tx)) : mod(lid, lit.u32(ty)));
  return { lid, x, y, one };
}

/** An opaque bound: `n * one` (see LaneCoords.one). */
export const opaque = (c: LaneCoords, n: number): Expr => mul(lit.u32(n), c.one);

/** `for (var i: u32 = from; cond(i); i = next(i)) { body(i) }`. */
export function forLoop(k: KernelBuilder, name: string, from: Expr, cond: (i: Expr) => Expr, next: (i: Expr) => Expr, body: (i: Expr) => void): void {
  const n = k.fresh(name);
  const i = ident(n);
  const stmts = k.collect(() => body(i));
  k.emit({
    kind: 'for',
    init: { kind: 'var', name: n, type: { kind: 'scalar', scalar: 'u32' }, init: from },
    cond: cond(i),
    update: { kind: 'assign', target: i, value: next(i) },
    body: stmts,
  });
}

/** Distance in workgroup memory slots between lanes y and y+1 of a row. */
export const laneStep = (l: Lanes): number => (l.xFast ? l.tx : 1);
/** Slot of lane 0 of row x. */
export const rowSlot = (l: Lanes, x: Expr): Expr => (l.tx === 1 ? lit.u32(0) : l.xFast ? x : mulConst(x, l.ty));

/** Combines two partial results (each a tuple of accumulator parts); may emit `let`s. */
export type Combine = (k: KernelBuilder, a: readonly Expr[], b: readonly Expr[]) => Expr[];

/**
 * Tree-reduce each row's ty partials (a tuple of parts of the given types) in workgroup memory; every invocation
 * gets its row's result. Must be reached by all invocations of the workgroup (it holds barriers).
 */
export function workgroupReduce(k: KernelBuilder, l: Lanes, c: LaneCoords, types: readonly Scalar[], parts: readonly Expr[], combine: Combine): Expr[] {
  if (l.ty === 1) return [...parts];
  const sh = types.map((t) => k.workgroupArray('sh', { kind: 'scalar', scalar: t }, l.tx * l.ty));
  sh.forEach((s, j) => k.assign(index(s, c.lid), parts[j]!));
  k.workgroupBarrier();
  // A uniform loop (span = ty/2, ty/4, ..., 1), so its barrier is in uniform control flow.
  forLoop(
    k,
    'span',
    opaque(c, l.ty / 2),
    (span) => gt(span, lit.u32(0)),
    (span) => shr(span, lit.u32(1)),
    (span) => {
      k.if(lt(c.y, span), () => {
        const a = sh.map((s) => k.let('a', index(s, c.lid)));
        const b = sh.map((s) => k.let('b', index(s, add(c.lid, mulConst(span, laneStep(l))))));
        combine(k, a, b).forEach((v, j) => k.assign(index(sh[j]!, c.lid), v));
      });
      k.workgroupBarrier();
    },
  );
  const slot = k.let('slot', rowSlot(l, c.x));
  return sh.map((s) => k.let('red', index(s, slot)));
}

// ---- the reduction kernel ---------------------------------------------------------------------------------------

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'argmax';

export interface ReduceSpec extends KernelSpecBase {
  readonly kernel: 'reduce';
  readonly op: ReduceOp;
  /** ArgMax: the last of equal maxima instead of the first. */
  readonly selectLast: boolean;
  /** 'full': input -> output; 'partial': input -> `split` partials per output; 'combine': partials -> output. */
  readonly stage: 'full' | 'partial' | 'combine';
  /** dtype of the original input (its range bounds integer max/min). */
  readonly source: DType;
  readonly input: TensorSpec;
  /** For 'partial': the partial values, [outputs * split] of the accumulator dtype. */
  readonly output: TensorSpec;
  readonly kept: readonly Dim[];
  readonly reduced: readonly Dim[];
  readonly split: number;
  /** ReduceMean: elements per output of the original input. */
  readonly divisor: number;
  readonly lanes: Lanes;
}

/** The dtype partial results are held in: f32 for floats, i32/u32 for integers. */
export function accDtype(dt: DType): 'f32' | 'i32' | 'u32' {
  const info = dtypeInfo(dt);
  if (info.kind === 'float') return 'f32';
  if (info.kind !== 'int' || dt === 'i64') throw new Error(`no reduction kernel for dtype ${dt}`);
  return info.signed ? 'i32' : 'u32';
}

const NONE = 0xffffffff;
const isnan = (x: Expr): Expr => call('kiln_isnan', x);

/** The accumulator's neutral start: the lowest (max) or highest (min) value of the source dtype. */
function extreme(acc: Scalar, source: DType, high: boolean): Expr {
  if (acc === 'f32') return lit.f32(high ? Infinity : -Infinity);
  const [lo, hi] = intRange(source);
  return lit.of(acc, high ? hi : lo);
}

/**
 * max/min as the interpreter's Math.max/Math.min: for f32 the prelude's kiln_max/kiln_min (NaN propagates, -0 <
 * +0; WGSL's max and min leave both unspecified).
 */
export function pick(fn: 'max' | 'min', acc: Scalar, a: Expr, b: Expr): Expr {
  return acc === 'f32' ? call(`kiln_${fn}`, a, b) : builtin(fn, a, b);
}

interface Monoid {
  readonly types: readonly Scalar[];
  readonly init: readonly Expr[];
  readonly combine: Combine;
}

function monoid(spec: ReduceSpec, acc: Scalar): Monoid {
  switch (spec.op) {
    case 'sum':
    case 'mean':
      return { types: [acc], init: [lit.of(acc, 0)], combine: (_k, [a], [b]) => [add(a!, b!)] };
    case 'max':
    case 'min': {
      const fn = spec.op;
      return { types: [acc], init: [extreme(acc, spec.source, fn === 'min')], combine: (_k, [a], [b]) => [pick(fn, acc, a!, b!)] };
    }
    case 'argmax': {
      // (value, index) pairs; NaN is the largest value (as in the interpreter); equal values keep the smaller
      // index (the larger with selectLast), so the result does not depend on the combining order. NONE: empty.
      const greater = (v: Expr, w: Expr): Expr => (acc === 'f32' ? lor(gt(v, w), land(isnan(v), not(isnan(w)))) : gt(v, w));
      const same = (v: Expr, w: Expr): Expr => (acc === 'f32' ? lor(eq(v, w), land(isnan(v), isnan(w))) : eq(v, w));
      return {
        types: [acc, 'u32'],
        init: [extreme(acc, spec.source, false), lit.u32(NONE)],
        combine: (k, [av, ai], [bv, bi]) => {
          const order = spec.selectLast ? gt(bi!, ai!) : lt(bi!, ai!);
          const wins = lor(greater(bv!, av!), land(same(bv!, av!), order));
          const better = k.let('better', lor(eq(ai!, lit.u32(NONE)), land(ne(bi!, lit.u32(NONE)), wins)));
          return [select(better, bv!, av!), select(better, bi!, ai!)];
        },
      };
    }
  }
}

export const reduce: KernelGen<ReduceSpec> = (spec) => {
  const { lanes } = spec;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: lanes.tx * lanes.ty });
  const argmax = spec.op === 'argmax';
  const src = k.input('x', spec.input);
  const srcIndex = spec.stage === 'combine' && argmax ? k.input('xi', { dtype: 'u32', shape: spec.input.shape }) : undefined;
  const out = k.output('y', spec.output);
  const outIndex = spec.stage === 'partial' && argmax ? k.output('yi', { dtype: 'u32', shape: spec.output.shape }) : undefined;
  const acc = accDtype(spec.source);
  const m = monoid(spec, acc);

  const outputs = product(spec.kept.map((d) => d.size));
  const count = product(spec.reduced.map((d) => d.size));
  const split = spec.stage === 'partial' ? spec.split : 1;
  const chunk = Math.ceil(count / split);
  const wg = k.workgroupIndex(Math.ceil(outputs / lanes.tx) * split);
  const c = laneCoords(k, lanes);
  const group = split > 1 ? div(wg, lit.u32(split)) : wg;
  const part = split > 1 ? k.let('part', mod(wg, lit.u32(split))) : lit.u32(0);
  const o = k.let('o', sumU32([mulConst(group, lanes.tx), c.x]));

  const accs = m.types.map((t, j) => k.var('acc', { kind: 'scalar', scalar: t }, m.init[j]));
  k.if(lt(o, lit.u32(outputs)), () => {
    const base = k.let('base', radixOffset(o, spec.kept));
    const start = split > 1 ? add(mulConst(part, chunk), c.y) : c.y;
    const end = split > 1 ? builtin('min', lit.u32(count), add(mulConst(part, chunk), lit.u32(chunk))) : opaque(c, count);
    k.for(
      'r',
      start,
      end,
      (r) => {
        const at = k.let('at', add(base, radixOffset(r, spec.reduced)));
        const elem = [k.let('v', toCompute(src.load(at), src.value))];
        if (argmax) elem.push(srcIndex ? k.let('vi', srcIndex.load(at)) : r);
        m.combine(k, accs, elem).forEach((v, j) => k.assign(accs[j]!, v));
      },
      lanes.ty,
    );
  });
  const red = workgroupReduce(k, lanes, c, m.types, accs, m.combine);

  k.if(land(eq(c.y, lit.u32(0)), lt(o, lit.u32(outputs))), () => {
    if (spec.stage === 'partial') {
      const at = k.let('at', add(mulConst(o, split), part));
      out.store(at, red[0]!);
      outIndex?.store(at, red[1]!);
      return;
    }
    let v = red[0]!;
    if (argmax) v = convert('i32', red[1]!);
    else if (spec.op === 'mean') v = spec.divisor === 0 ? lit.f32(NaN) : div(v, lit.f32(spec.divisor));
    out.store(o, fromCompute(v, out.value));
  });
  return k.finish();
};

// ---- planning: the specs of a reduction (one step, or partial + combine) ---------------------------------------

export interface ReducePlanInput {
  readonly target: Target;
  readonly op: ReduceOp;
  readonly selectLast?: boolean;
  readonly input: TensorSpec;
  readonly axes: readonly number[];
  /** The output as the kernel writes it (its dtype must be unpacked). */
  readonly output: TensorSpec;
}

/** Below this many workgroups a long reduction is split (when each lane would reduce at least MIN_PER_LANE). */
const SPLIT_BELOW_GROUPS = 64;
const MIN_PER_LANE = 32;

/** One spec, or [partial, combine] for a split reduction (partials go through scratch). */
export function planReduce(p: ReducePlanInput): ReduceSpec[] {
  const view = reduceView(p.input.shape, p.axes);
  const outputs = product(view.kept.map((d) => d.size));
  const count = product(view.reduced.map((d) => d.size));
  const lanes = chooseLanes(outputs, count, view.contiguous, view.run);
  const base = { kernel: 'reduce', target: { shaderF16: p.target.shaderF16 }, op: p.op, selectLast: !!p.selectLast, source: p.input.dtype, divisor: count } as const;
  const groups = Math.ceil(outputs / lanes.tx);
  const perLane = Math.ceil(count / lanes.ty);
  let split = 1;
  if (groups < SPLIT_BELOW_GROUPS && perLane >= MIN_PER_LANE && outputs > 0)
    split = Math.min(Math.ceil(perLane / 16), Math.ceil((4 * SPLIT_BELOW_GROUPS) / groups), 4096);
  if (split > 1) split = Math.ceil(count / Math.ceil(count / split)); // no empty chunk
  if (split <= 1) return [{ ...base, stage: 'full', input: p.input, output: p.output, kept: view.kept, reduced: view.reduced, split: 1, lanes }];
  const partials: TensorSpec = { dtype: accDtype(p.input.dtype), shape: [outputs * split] };
  return [
    { ...base, stage: 'partial', input: p.input, output: partials, kept: view.kept, reduced: view.reduced, split, lanes },
    {
      ...base,
      stage: 'combine',
      input: partials,
      output: p.output,
      kept: [{ size: outputs, stride: split }],
      reduced: [{ size: split, stride: 1 }],
      split: 1,
      lanes: chooseLanes(outputs, split, true),
    },
  ];
}
