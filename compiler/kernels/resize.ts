// Resize: each output element is a weighted sum over a small box of input taps, one tap list per resized axis
// (interpolation is separable). The tap tables (input index and weight per output coordinate and tap) are baked
// into the shader as constant arrays, and they are not recomputed here: they are read off the interpreter's own
// Resize reference (ir/ops/resize.ts), by resizing an identity matrix along one axis at a time. So nearest /
// linear / cubic, every coordinate transformation, exclude_outside, antialias and tf_crop_and_resize's crop and
// extrapolation follow the reference exactly; only the arithmetic differs (f32 here, float64 there). Integer
// results round half to even and saturate, as in the reference.
// With symbolic dims (spec.dims), an axis whose sizes are static keeps its tables; one whose in or out size is
// symbolic computes its taps in the shader (resize-coords.ts), and sizes and strides come from the dims uniform.
import { AttrReader, type Attrs, type Node, type TensorType, dimMul, dtypeInfo, intRange, isStaticShape, lookupOp, makeTensor, tensorType } from '../../ir/index.js';
import { type Dim, numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { storageLayout } from '../wgsl/accessor.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { T, add, arrayType, builtin, construct, convert, index, land, lit, lor, mul, mulConst, ne, select, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, fromCompute, isnan, mulDim, staticTensor, storeEachElement, symbolicTensor, toF32, unflatten, unflattenDims } from './lib/index.js';
import { type ComputedAxis, type CoordRule, type TapExpr, computedTaps, planComputedAxis } from './resize-coords.js';

/** One axis of the (merged) output: copied through, resampled through a tap table, or through computed taps. */
export type ResizeAxis =
  | { readonly kind: 'copy'; readonly size: Dim; readonly inStride: Dim }
  | ComputedAxis
  | {
      readonly kind: 'taps';
      readonly size: number;
      readonly inStride: Dim;
      /** Taps per output coordinate; unused slots have weight 0 (skipped, as the reference skips zero weights). */
      readonly taps: number;
      readonly index: readonly number[];
      /** Absent when every weight is 1 (nearest). */
      readonly weight?: readonly number[];
      /** Output coordinates outside tf_crop_and_resize's crop (absent when none are). */
      readonly outside?: readonly number[];
    };

export interface ResizeSpec extends KernelSpecBase {
  readonly kernel: 'resize';
  /** The program's symbols, when a tensor has symbolic dims (tensor specs from symbolicTensor). */
  readonly dims?: DimContext;
  /** How computed axes map coordinates (present when there are any). */
  readonly coords?: CoordRule;
  readonly input: TensorSpec;
  readonly output: TensorSpec;
  readonly axes: readonly ResizeAxis[];
  readonly extrapolation: number;
  readonly workgroupSize: number;
}

/** Multiply-adds per output element times elements. */
export const resizeFlops = (spec: ResizeSpec): number =>
  numel(spec.output.shape) *
  spec.axes.reduce((p, a) => p * (a.kind === 'taps' ? a.taps : a.kind === 'computed' ? { nearest: 1, linear: 2, cubic: 4 }[spec.coords!.mode] : 1), 1);

/** Row-major strides of a shape of dims. */
function dimStrides(shape: readonly Dim[]): Dim[] {
  const out: Dim[] = [];
  let s: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s = dimMul(s, shape[i]!);
  }
  return out;
}

/** An attribute with one value per dim or one per `axes` entry, as one per dim (ir/ops/resize.ts perDim). */
function perDim(values: readonly number[], axes: readonly number[] | undefined, rank: number): (number | undefined)[] {
  if (values.length === rank || !axes) return [...values];
  const out = new Array<number | undefined>(rank).fill(undefined);
  axes.forEach((a, i) => (out[a] = values[i]));
  return out;
}

/**
 * The 1-D interpolation matrix of one axis, W[x][j] (output x, input j), from the reference: resizing rows of
 * the identity along axis 1 gives its columns. Also which outputs the crop leaves to the extrapolation value.
 */
function axisMatrix(attrs: Attrs, inSize: number, outSize: number, scale: number | undefined, roi: [number, number] | undefined) {
  const def = lookupOp('Resize')!;
  const { scales: _s, roi: _r, axes: _a, sizes: _z, ...rest } = attrs;
  const probe = (rows: number, data: (i: number) => number, extra: Attrs): Float64Array => {
    const a: Attrs = { ...rest, axes: [1], sizes: [outSize], ...(scale !== undefined ? { scales: [scale] } : {}), ...(roi ? { roi: [...roi] } : {}), ...extra };
    const x = makeTensor('f32', [rows, inSize], data);
    return def.reference([x], new AttrReader('Resize', def.attrs, a), [tensorType('f32', [rows, outSize])])[0]!.data;
  };
  const w: { j: number; w: number }[][] = Array.from({ length: outSize }, () => []);
  const CHUNK = 256;
  for (let r0 = 0; r0 < inSize; r0 += CHUNK) {
    const rows = Math.min(CHUNK, inSize - r0);
    const res = probe(rows, (i) => (Math.floor(i / inSize) + r0 === i % inSize ? 1 : 0), {});
    for (let r = 0; r < rows; r++)
      for (let x = 0; x < outSize; x++) {
        const v = res[r * outSize + x]!;
        if (v !== 0) w[x]!.push({ j: r0 + r, w: v });
      }
  }
  let outside: number[] | undefined;
  if (attrs.coordinate_transformation_mode === 'tf_crop_and_resize') {
    const e = probe(1, () => 0, { extrapolation_value: 1 });
    if (e.some((v) => v !== 0)) outside = Array.from(e, (v) => (v !== 0 ? 1 : 0));
  }
  return { w, outside };
}

/**
 * The kernel spec of a Resize node; `dims` (the program's symbols) makes a node with symbolic shapes a symbolic
 * kernel, else its shapes must be static.
 */
export function resizeSpec(node: Node, typeOf: (value: string) => TensorType, target: Target, workgroupSize = 64, dims?: DimContext): ResizeSpec {
  const attrs = new AttrReader('Resize', lookupOp('Resize')!.attrs, node.attrs);
  const [inT, outT] = [typeOf(node.inputs[0]!), typeOf(node.outputs[0]!)];
  const sym = dims && !(isStaticShape(inT.shape) && isStaticShape(outT.shape)) ? dims : undefined;
  const input = sym ? symbolicTensor(inT, sym) : staticTensor(inT, `%${node.inputs[0]}`, 'Resize kernels');
  const output = sym ? symbolicTensor(outT, sym) : staticTensor(outT, `%${node.outputs[0]}`, 'Resize kernels');
  if (sym)
    for (const [v, t] of [[node.inputs[0]!, inT], [node.outputs[0]!, outT]] as const)
      if (storageLayout(t.dtype, 1, target).lanes > 1)
        throw new Error(`%${v} is ${t.dtype}, packed several to a storage word, which a symbolic shape cannot split at run time; Cast it to f32 first`);
  const inDims = input.dims ?? input.shape;
  const rank = input.shape.length;
  const axesAttr = attrs.optInts('axes')?.map((a) => (a < 0 ? a + rank : a));
  const scales = attrs.has('scales') ? perDim(attrs.floats('scales'), axesAttr, rank) : undefined;
  let roi: [number, number][] | undefined;
  if (attrs.has('roi')) {
    const given = attrs.floats('roi');
    const starts = perDim(given.slice(0, given.length / 2), axesAttr, rank);
    const ends = perDim(given.slice(given.length / 2), axesAttr, rank);
    roi = input.shape.map((_, d) => [starts[d] ?? 0, ends[d] ?? 1]);
  }
  const inStrides = dimStrides(inDims);
  const rule = {
    mode: attrs.string('mode') as CoordRule['mode'],
    transform: attrs.string('coordinate_transformation_mode'),
    nearest: attrs.string('nearest_mode'),
    cubicA: attrs.float('cubic_coeff_a'),
    exclude: attrs.int('exclude_outside') !== 0,
  };
  const raw: ResizeAxis[] = (output.dims ?? output.shape).map((size, d) => {
    const copy: ResizeAxis = { kind: 'copy', size, inStride: inStrides[d]! };
    if ((axesAttr && !axesAttr.includes(d)) || size === 0) return copy;
    const inSize = inDims[d]!;
    if (typeof size !== 'number' || typeof inSize !== 'number') {
      const plan = planComputedAxis(d, { ...rule, antialias: attrs.int('antialias') !== 0 }, inSize, size, inStrides[d]!, scales?.[d], (x) => dimMax(sym, x));
      return plan === 'copy' ? copy : plan;
    }
    const { w, outside } = axisMatrix(node.attrs, inSize, size, scales?.[d], roi?.[d]);
    const identity = !outside && size === input.shape[d] && w.every((ws, x) => ws.length === 1 && ws[0]!.j === x && ws[0]!.w === 1);
    if (identity) return copy;
    const taps = Math.max(1, ...w.map((ws) => ws.length));
    const slot = (x: number, t: number): { j: number; w: number } => w[x]![t] ?? { j: 0, w: 0 };
    const flat = <R>(f: (s: { j: number; w: number }) => R): R[] => w.flatMap((_, x) => Array.from({ length: taps }, (_, t) => f(slot(x, t))));
    const weight = flat((s) => s.w);
    const ones = taps === 1 && weight.every((v) => v === 1);
    return { kind: 'taps', size, inStride: inStrides[d]!, taps, index: flat((s) => s.j), ...(ones ? {} : { weight }), ...(outside ? { outside } : {}) };
  });
  // Size-1 copies go; neighbouring copies merge (their input and output strides agree).
  const axes: ResizeAxis[] = [];
  for (const a of raw) {
    if (a.kind === 'copy' && a.size === 1) continue;
    const prev = axes[axes.length - 1];
    if (a.kind === 'copy' && prev?.kind === 'copy') axes[axes.length - 1] = { kind: 'copy', size: dimMul(prev.size, a.size), inStride: a.inStride };
    else axes.push(a);
  }
  const computed = axes.some((a) => a.kind === 'computed');
  return {
    kernel: 'resize',
    target: { shaderF16: target.shaderF16 },
    ...(sym ? { dims: sym } : {}),
    ...(computed ? { coords: rule } : {}),
    input,
    output,
    axes,
    extrapolation: attrs.float('extrapolation_value'),
    workgroupSize,
  };
}

const u = lit.u32;

export const resize: KernelGen<ResizeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const x = k.input('x', spec.input);
  const out = k.output('y', spec.output);
  const info = dtypeInfo(spec.output.dtype);
  const table = (name: string, scalar: 'u32' | 'f32', values: readonly number[]): Expr => {
    const elems = values.map((v) => (scalar === 'u32' ? u(v) : lit.f32(v)));
    return { kind: 'ident', name: k.helper({ kind: 'const', name, value: construct(arrayType(T[scalar], values.length), ...elems) }) };
  };
  const tables = spec.axes.map((a, n) =>
    a.kind !== 'taps'
      ? undefined
      : {
          index: table(`IDX${n}`, 'u32', a.index),
          weight: a.weight && table(`W${n}`, 'f32', a.weight),
          outside: a.outside && table(`OUT${n}`, 'u32', a.outside),
        },
  );

  const valueAt = (flat: Expr): Expr => {
    const sizes = spec.axes.map((a) => a.size);
    const coords = spec.dims ? unflattenDims(flat, sizes, (d) => k.dim(d)) : unflatten(flat, sizes as number[]);
    const c = coords.map((e, n) => (spec.axes.length === 1 ? flat : k.let(`c${n}`, e)));
    const base = k.let('base', sumU32(spec.axes.map((a, n) => (a.kind === 'copy' ? mulDim(k, c[n]!, a.inStride) : u(0)))));
    // Computed axes' taps, once per element, before the tap loops.
    const computed = spec.axes.map((a, n): TapExpr[] | undefined => (a.kind === 'computed' ? computedTaps(k, a, spec.coords!, c[n]!) : undefined));
    const acc = k.var('acc', T.f32, lit.f32(0));
    const load = (i: Expr): Expr => toF32(x.load(i), x.value);
    // One (possibly unrolled) loop per resampled axis, outermost first, carrying the running weight and offset.
    const level = (n: number, w: Expr | undefined, offset: Expr[]): void => {
      if (n === spec.axes.length) {
        const v = load(sumU32([base, ...offset]));
        k.assign(acc, add(acc, w ? mul(w, v) : v));
        return;
      }
      const a = spec.axes[n]!;
      const t = tables[n];
      if (a.kind === 'computed') {
        for (const tap of computed[n]!) {
          const next = [...offset, mulDim(k, tap.index, a.inStride)];
          const wn = tap.weight;
          const cond = [...(tap.inside ? [tap.inside] : []), ...(wn ? [ne(wn, lit.f32(0))] : [])];
          const go = (): void => level(n + 1, wn ? (w ? k.let(`p${n}`, mul(w, wn)) : wn) : w, next);
          if (cond.length) k.if(cond.reduce(land), go);
          else go();
        }
        return;
      }
      if (a.kind === 'copy' || !t) return level(n + 1, w, offset);
      const visit = (tap: Expr): void => {
        const at = a.taps === 1 ? c[n]! : k.let(`e${n}`, add(mulConst(c[n]!, a.taps), tap));
        const next = [...offset, mulDim(k, index(t.index, at), a.inStride)];
        if (!t.weight) return level(n + 1, w, next);
        const wn = k.let(`w${n}`, index(t.weight, at));
        k.if(ne(wn, lit.f32(0)), () => level(n + 1, w ? k.let(`p${n}`, mul(w, wn)) : wn, next));
      };
      if (a.taps === 1) visit(u(0));
      else k.for(`t${n}`, u(0), u(a.taps), visit);
    };
    level(0, undefined, []);
    let result: Expr = acc;
    const outside = tables.flatMap((t, n) => (t?.outside ? [ne(index(t.outside, c[n]!), u(0))] : []));
    if (outside.length) result = select(outside.reduce(lor), lit.f32(spec.extrapolation), result);
    if (info.kind === 'float') return fromCompute(result, out.value);
    // Integers: round half to even (WGSL round), saturate (bounds kept inside f32's exact range), NaN -> 0.
    const [lo, hi] = intRange(spec.output.dtype);
    // The largest f32 not above hi (2^31 - 1 and 2^32 - 1 are not f32 values).
    const top = spec.output.dtype === 'i32' ? 2147483520 : spec.output.dtype === 'u32' ? 4294967040 : hi;
    const r = k.let('r', result);
    return select(isnan(r), lit.of(out.value, 0), convert(out.value, builtin('clamp', builtin('round', r), lit.f32(lo), lit.f32(top))));
  };

  storeEachElement(k, out, valueAt);
  return k.finish();
};
