// Lowerings of the data-movement ops (Transpose, Slice, Expand, Pad, Gather, Trilu, Concat, Split), which all
// become gather-index kernels (kernels/gather-index.ts) with the index map worked out here, plus Resize, the
// pools and the quantization ops, whose generators build their own specs. Slice and Pad ranges follow
// ir/ops/slice.ts (restated here because the IR keeps them private); shapes come from the inferred types.
// A movement node with a symbolic dim (when the program has symbols) gets its map over dims: sizes, strides and
// offsets are dim expressions the kernel reads from the dims uniform, so the one kernel serves every size.
import { quantGatherLowering } from './quant-lowering.js';
import { type Node, type Dim, dimAdd, dimMul, dimProduct, dimSub, isStaticShape, layoutStorageShape, numel } from '../../ir/index.js';
import { panelOf } from '../../passes/layout/arrangement.js';
import type { Kernel } from '../kernel-spec.js';
import { type AxisTerm, type GatherIndexSpec, MAX_SOURCES, type PadMode, type SourceMap, gatherIndex, simplifyGatherIndex } from '../kernels/gather-index.js';
import { type TensorSpec, symbolicTensor } from '../kernels/lib/index.js';
import { poolSpec, pool } from '../kernels/pool.js';
import { type QuantizeSpec, quantize, quantizeRange, quantizeSpec, rangeGroups } from '../kernels/quantize.js';
import { resize, resizeFlops, resizeSpec } from '../kernels/resize.js';
import { storageLayout } from '../wgsl/accessor.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, type Step, attrsOf } from './lowering.js';


function tensorOf(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  const shape = t.shape.map((d) => {
    if (typeof d !== 'number') throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; kernels need static shapes`);
    return d;
  });
  return { dtype: t.dtype, shape };
}

/**
 * How a movement node sees its tensors: static specs, or (when one of them has a symbolic dim and the program
 * has symbols) specs sized for the upper bounds with the symbolic shape in `dims`.
 */
interface Movement {
  readonly dims?: DimContext;
  tensor(value: string): TensorSpec;
}

function movementOf(node: Node, cx: LoweringContext): Movement {
  const symbolic = cx.dims && [...node.inputs, ...node.outputs].some((v) => v !== '' && !isStaticShape(cx.typeOf(v).shape));
  if (!symbolic) return { tensor: (v) => tensorOf(cx, v) };
  const dims = cx.dims!;
  return { dims, tensor: (v) => symbolicTensor(cx.typeOf(v), dims) };
}

/** A tensor spec's shape as dims (the symbolic shape when it has one). */
const dimsOf = (t: TensorSpec): readonly Dim[] => t.dims ?? t.shape;

/** Row-major strides of a shape of dims (ir/shape.ts strides when static). */
function dimStrides(shape: readonly Dim[]): Dim[] {
  const out = new Array<Dim>(shape.length);
  let s: Dim = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s = dimMul(s, shape[i]!);
  }
  return out;
}

const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);
const steps = (list: readonly (Step | undefined)[]): Lowering => ({ kind: 'steps', steps: list.filter((s): s is Step => s !== undefined) });
const args = (...values: string[]): ArgRef[] => values.map((value) => ({ value }));

type MapSpec = Omit<GatherIndexSpec, 'kernel' | 'target' | 'workgroupSize' | 'fill' | 'keep' | 'dims'> & Partial<Pick<GatherIndexSpec, 'fill' | 'keep'>>;

/** A gather-index step writing the map's elements (none when the output is always empty). */
function moveStep(cx: LoweringContext, m: Movement, map: MapSpec, bound: ArgRef[]): Step | undefined {
  // Symbolic maps are planned, and counted for `kiln inspect`, at the symbols' upper bounds.
  const count = m.dims ? dimMax(m.dims, dimProduct(map.shape)) : numel(map.shape as number[]);
  if (count === 0) return undefined;
  if (m.dims && storageLayout(map.output.dtype, 1, cx.target).lanes > 1)
    throw new LoweringError(
      `${map.output.dtype} values are packed several to a storage word${map.output.dtype === 'f16' ? ' on a target without shader-f16' : ''}, which a symbolic shape cannot split at run time`,
    );
  const spec: GatherIndexSpec = { kernel: 'gather-index', target: { shaderF16: cx.target.shaderF16 }, ...(m.dims ? { dims: m.dims } : {}), workgroupSize: 64, fill: 0, keep: false, ...map };
  const kernel: Kernel = cx.kernel(gatherIndex, simplifyGatherIndex(spec));
  return { kernel, args: m.dims ? [{ dims: true }, ...bound] : bound, flops: count };
}

/** A one-source map over the output's own shape. */
function oneSource(cx: LoweringContext, m: Movement, node: Node, source: SourceMap, extra: Partial<MapSpec> = {}, out = node.outputs[0]!): Step | undefined {
  const output = m.tensor(out);
  const input = m.tensor(node.inputs[0]!);
  return moveStep(cx, m, { output, inputs: [input], shape: dimsOf(output), sources: [source], ...extra }, args(node.inputs[0]!, out));
}

const transpose: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const perm = attrsOf(node).optInts('perm') ?? x.map((_, i) => x.length - 1 - i);
  const s = dimStrides(x);
  return steps([oneSource(cx, m, node, { base: 0, terms: perm.map((p) => s[p]!) })]);
};

/** First index and count of start:end:step over a dim of size `dim`, clamped as ONNX does (ir/ops/slice.ts). */
function sliceRange(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start;
  return step > 0 ? clamp(s, 0, dim) : clamp(s, 0, dim - 1);
}

const slice: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const a = attrsOf(node);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const s = dimStrides(x);
  const starts = a.ints('starts');
  const ends = a.dims('ends');
  const axes = a.optInts('axes') ?? starts.map((_, i) => i);
  const stepsAttr = a.optInts('steps') ?? starts.map(() => 1);
  const terms: Dim[] = [...s];
  let base: Dim = 0;
  axes.forEach((ax, k) => {
    const axis = normAxis(ax, x.length);
    const dim = x[axis]!;
    // The symbolic forms the IR accepts (a static start >= 0, unit step, to the axis end or a symbolic end
    // within a static axis) read from the start itself: nothing is clamped at run time.
    const first = typeof dim === 'number' && typeof ends[k] === 'number' ? sliceRange(dim, starts[k]!, 0, stepsAttr[k]!) : starts[k]!;
    base = dimAdd(base, dimMul(first, s[axis]!));
    terms[axis] = dimMul(stepsAttr[k]!, s[axis]!);
  });
  return steps([oneSource(cx, m, node, { base, terms })]);
};

const expand: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const out = dimsOf(m.tensor(node.outputs[0]!));
  const s = dimStrides(x);
  const pad = out.length - x.length;
  return steps([oneSource(cx, m, node, { base: 0, terms: out.map((_, a) => (a < pad || x[a - pad] === 1 ? 0 : s[a - pad]!)) })]);
};

const padLowering: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const a = attrsOf(node);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const s = dimStrides(x);
  const pads = a.ints('pads');
  const axes = (a.optInts('axes') ?? x.map((_, i) => i)).map((ax) => normAxis(ax, x.length));
  const mode = a.string('mode') as PadMode;
  let base: Dim = 0;
  const terms: AxisTerm[] = [...s];
  axes.forEach((axis, k) => {
    const [begin, end] = [pads[k]!, pads[k + axes.length]!];
    const dim = x[axis]!;
    if (typeof dim !== 'number' && (begin !== 0 || end !== 0)) throw new LoweringError(`axis ${axis} is symbolic (${dim}) and padded; Pad needs a static size there`);
    const lo = Math.max(0, -begin);
    if (begin <= 0 && end <= 0) base = dimAdd(base, dimMul(lo, s[axis]!)); // a crop: still affine
    else terms[axis] = { pad: mode, lead: Math.max(0, begin), lo, kept: (dim as number) - lo - Math.max(0, -end), mult: s[axis]! };
  });
  return steps([oneSource(cx, m, node, { base, terms }, { fill: mode === 'constant' ? a.float('value') : 0 })]);
};

const gather: NodeLowering = (node, cx) => {
  const quant = quantGatherLowering(node, cx);
  if (quant) return quant;
  const m = movementOf(node, cx);
  const data = m.tensor(node.inputs[0]!);
  const indices = m.tensor(node.inputs[1]!);
  const output = m.tensor(node.outputs[0]!);
  const [dd, id, od] = [dimsOf(data), dimsOf(indices), dimsOf(output)];
  const axis = normAxis(attrsOf(node).int('axis'), dd.length);
  const is = dimStrides(id);
  const r = id.length;
  // A table stored in row panels (arrange-layout: a tied embedding whose LM head reads panels) is read in place:
  // row j's element k sits at (j / P) * K * P + k * P + j % P (passes/layout/arrangement.ts gathersRows).
  const dt = cx.typeOf(node.inputs[0]!);
  const panel = dt.layout.kind === 'blocked' ? panelOf(dt.layout, false) : undefined;
  if (dt.layout.kind !== 'row-major' && (panel === undefined || axis !== 0))
    throw new LoweringError(`Gather %${node.outputs[0]}: data %${node.inputs[0]} is stored ${dt.layout.kind} but not in row panels read along axis 0; run materialize-encodings`);
  // In panels, k's stride is P; the row's part of the index is the gather term's.
  const ds = panel ? [0, panel] : dimStrides(dd);
  // Output axes: data's before `axis`, then the index tensor's, then data's after `axis`.
  const terms = od.map((_, o) => (o < axis ? ds[o]! : o < axis + r ? 0 : ds[o - r + 1]!));
  const gatherTerms = od.map((_, o) => (o >= axis && o < axis + r ? is[o - axis]! : 0));
  const gatherMap = panel ? { len: dd[0]!, mult: (dd[1] as number) * panel, panel, terms: gatherTerms } : { len: dd[axis]!, mult: ds[axis]!, terms: gatherTerms };
  const source: SourceMap = { base: 0, terms, gather: gatherMap };
  const stored = panel ? { ...data, shape: layoutStorageShape(dt.layout, dd as number[]) } : data;
  return steps([moveStep(cx, m, { output, inputs: [stored], indices, shape: od, sources: [source] }, args(node.inputs[0]!, node.inputs[1]!, node.outputs[0]!))]);
};

const trilu: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const a = attrsOf(node);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const r = x.length;
  return steps([oneSource(cx, m, node, { base: 0, terms: dimStrides(x) }, { mask: { row: r - 2, col: r - 1, upper: a.int('upper') === 1, k: a.int('k') } })]);
};

/** Storage offsets WebGPU accepts for any adapter's storage bindings (minStorageBufferOffsetAlignment <= 256). */
const VIEW_ALIGNMENT = 256;
const VIEW_DTYPES = new Set(['f32', 'i32', 'u32', 'f16']);

/**
 * A Split whose pieces are contiguous (nothing before the axis but size-1 dims: a decoder step's fused QKV row)
 * of a computed value, each starting on a bindable offset: the pieces are views of the input, no kernel runs.
 */
function splitViews(node: Node, cx: LoweringContext, x: readonly Dim[], axis: number): Lowering | undefined {
  const t = cx.typeOf(node.inputs[0]!);
  if (cx.storage(node.inputs[0]!) || !isStaticShape(x) || !VIEW_DTYPES.has(t.dtype) || x.slice(0, axis).some((d) => d !== 1)) return undefined;
  const inner = numel(x.slice(axis + 1) as number[]);
  const bytes = t.dtype === 'f16' ? 2 : 4;
  const views: { output: string; offset: number }[] = [];
  let at = 0;
  const sizes = attrsOf(node).optInts('split') ?? (node.outputs.includes('') ? undefined : node.outputs.map((o) => cx.typeOf(o).shape[axis] as number));
  if (!sizes) return undefined;
  for (const [i, out] of node.outputs.entries()) {
    const offset = at * inner * bytes;
    if (offset % VIEW_ALIGNMENT !== 0) return undefined;
    if (out !== '') views.push({ output: out, offset });
    at += sizes[i]!;
  }
  return { kind: 'views', of: node.inputs[0]!, views };
}

const split: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const x = dimsOf(m.tensor(node.inputs[0]!));
  const axis = normAxis(attrsOf(node).int('axis'), x.length);
  const views = splitViews(node, cx, x, axis);
  if (views) return views;
  const s = dimStrides(x);
  let at: Dim = 0;
  return steps(
    node.outputs.map((out) => {
      const base = dimMul(at, s[axis]!);
      at = dimAdd(at, dimsOf(m.tensor(out))[axis]!);
      return oneSource(cx, m, node, { base, terms: s }, {}, out);
    }),
  );
};

/**
 * Concat: one kernel reads up to 7 inputs, each covering its interval of the axis. More inputs take one dispatch
 * per group of 7: unpacked outputs iterate only the group's slab and place it; packed outputs rewrite whole words,
 * keeping the lanes other groups own. Intervals over a symbolic axis are dims, compared at run time.
 */
const concat: NodeLowering = (node, cx) => {
  const m = movementOf(node, cx);
  const output = m.tensor(node.outputs[0]!);
  const od = dimsOf(output);
  const axis = normAxis(attrsOf(node).int('axis'), od.length);
  const outer = dimProduct(od.slice(0, axis));
  const inner = dimProduct(od.slice(axis + 1));
  const len = od[axis]!;
  let at: Dim = 0;
  const parts = node.inputs
    .map((value) => {
      const t = m.tensor(value);
      const from = at;
      at = dimAdd(at, dimsOf(t)[axis]!);
      return { value, t, from, to: at };
    })
    .filter((p) => dimsOf(p.t)[axis] !== 0);
  const groups: (typeof parts)[] = [];
  for (let g = 0; g < parts.length; g += MAX_SOURCES) groups.push(parts.slice(g, g + MAX_SOURCES));
  const packed = storageLayout(output.dtype, numel(output.shape), cx.target).lanes > 1;
  // -(from - offset) × inner as the static code always wrote it (a -0 included: it is part of the kernel hash).
  const negOffset = (from: Dim, offset: Dim): Dim =>
    typeof from === 'number' && typeof offset === 'number' && typeof inner === 'number' ? -(from - offset) * inner : dimMul(dimSub(offset, from), inner);
  return steps(
    groups.map((group) => {
      // Slab mode: iterate [outer, group's span, inner] and place it at the group's offset.
      const slab = groups.length > 1 && !packed;
      const offset = slab ? group[0]!.from : 0;
      const span = slab ? dimSub(group[group.length - 1]!.to, offset) : len;
      const sources = group.map(
        (p): SourceMap => ({
          base: negOffset(p.from, offset),
          terms: [dimMul(dimSub(p.to, p.from), inner), inner, 1],
          covers: { axis: 1, from: dimSub(p.from, offset), to: dimSub(p.to, offset) },
        }),
      );
      const map: MapSpec = {
        output,
        inputs: group.map((p) => p.t),
        shape: [outer, span, inner],
        sources,
        keep: groups.length > 1 && packed,
        ...(slab ? { place: { base: dimMul(offset, inner), terms: [dimMul(len, inner), inner, 1] } } : {}),
      };
      return moveStep(cx, m, map, args(...group.map((p) => p.value), node.outputs[0]!));
    }),
  );
};

const lowerResize: NodeLowering = (node, cx) => {
  const spec = resizeSpec(node, cx.typeOf, cx.target, 64, cx.dims);
  if (numel(spec.output.shape) === 0) return steps([]);
  return steps([{ kernel: cx.kernel(resize, spec), args: [...(spec.dims ? [{ dims: true } as const] : []), ...args(node.inputs[0]!, node.outputs[0]!)], flops: resizeFlops(spec) }]);
};

const lowerPool: NodeLowering = (node, cx) => {
  const spec = poolSpec(node, cx.typeOf, cx.target, 64, cx.dims);
  const outputs = numel(spec.output.shape);
  if (outputs === 0) return steps([]);
  return steps([{ kernel: cx.kernel(pool, spec), args: [...(spec.dims ? [{ dims: true } as const] : []), ...args(node.inputs[0]!, node.outputs[0]!)], flops: outputs * numel(spec.kernelShape) }]);
};

const lowerQuantize: NodeLowering = (node, cx) => {
  const spec = quantizeSpec(node, cx.typeOf, cx.target);
  const count = numel(spec.output.shape);
  if (count === 0) return steps([]);
  return steps([{ kernel: cx.kernel(quantize, spec), args: args(...node.inputs.filter((v) => v !== ''), node.outputs[0]!), flops: count }]);
};

/**
 * DynamicQuantizeLinear: the data's range (one workgroup, or per-chunk partials in scratch reduced by a second
 * dispatch) gives scale and zero point, then a per-tensor QuantizeLinear reads them back.
 */
const lowerDynamicQuantize: NodeLowering = (node, cx) => {
  const xv = node.inputs[0]!;
  const [y, scale, zp] = node.outputs as [string, string, string];
  const x = tensorOf(cx, xv);
  const n = numel(x.shape);
  const target = { shaderF16: cx.target.shaderF16 };
  const range = (input: TensorSpec, pairs: boolean, groups: number, final: boolean): Kernel =>
    cx.kernel(quantizeRange, { kernel: 'quantize-range', target, input, pairs, groups, final });
  const groups = rangeGroups(n);
  const list: Step[] = [];
  if (groups === 1) list.push({ kernel: range(x, false, 1, true), args: args(xv, scale, zp), flops: n });
  else {
    const partials: ArgRef = { scratch: 'range', bytes: 8 * groups };
    list.push({ kernel: range(x, false, groups, false), args: [{ value: xv }, partials], flops: n });
    list.push({ kernel: range({ dtype: 'f32', shape: [2 * groups] }, true, 1, true), args: [partials, ...args(scale, zp)], flops: 2 * groups });
  }
  if (n > 0) {
    const q: QuantizeSpec = {
      kernel: 'quantize',
      target,
      direction: 'quantize',
      x,
      scale: { dtype: 'f32', shape: [] },
      zeroPoint: { dtype: 'u8', shape: [] },
      output: { dtype: 'u8', shape: x.shape },
      param: { len: 1, inner: 1, block: 1, mults: [0, 0, 0] },
      workgroupSize: 64,
    };
    list.push({ kernel: cx.kernel(quantize, q), args: args(xv, scale, zp, y), flops: n });
  }
  return steps(list);
};

export const MOVEMENT_LOWERINGS: Readonly<Record<string, NodeLowering>> = {
  Transpose: transpose,
  Slice: slice,
  Expand: expand,
  Pad: padLowering,
  Gather: gather,
  Trilu: trilu,
  Split: split,
  Concat: concat,
  Resize: lowerResize,
  MaxPool: lowerPool,
  AveragePool: lowerPool,
  QuantizeLinear: lowerQuantize,
  DequantizeLinear: lowerQuantize,
  DynamicQuantizeLinear: lowerDynamicQuantize,
};
