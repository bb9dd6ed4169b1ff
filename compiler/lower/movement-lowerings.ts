// Lowerings of the data-movement ops (Transpose, Slice, Expand, Pad, Gather, Trilu, Concat, Split), which all
// become gather-index kernels (kernels/gather-index.ts) with the index map worked out here, plus Resize, the
// pools and the quantization ops, whose generators build their own specs. Slice and Pad ranges follow
// ir/ops/slice.ts (restated here because the IR keeps them private); shapes come from the inferred types.
import { type Node, AttrReader, lookupOp, numel, strides } from '../../ir/index.js';
import type { Kernel } from '../kernel-spec.js';
import { type AxisTerm, type GatherIndexSpec, MAX_SOURCES, type PadMode, type SourceMap, gatherIndex, simplifyGatherIndex } from '../kernels/gather-index.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { poolSpec, pool } from '../kernels/pool.js';
import { type QuantizeSpec, quantize, quantizeRange, quantizeSpec, rangeGroups } from '../kernels/quantize.js';
import { resize, resizeFlops, resizeSpec } from '../kernels/resize.js';
import { storageLayout } from '../wgsl/accessor.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, type Step } from './lowering.js';

const attrsOf = (node: Node): AttrReader => new AttrReader(node.op, lookupOp(node.op)!.attrs, node.attrs);

function tensorOf(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  const shape = t.shape.map((d) => {
    if (typeof d !== 'number') throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; kernels need static shapes`);
    return d;
  });
  return { dtype: t.dtype, shape };
}

const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);
const steps = (list: readonly (Step | undefined)[]): Lowering => ({ kind: 'steps', steps: list.filter((s): s is Step => s !== undefined) });
const args = (...values: string[]): ArgRef[] => values.map((value) => ({ value }));

type MapSpec = Omit<GatherIndexSpec, 'kernel' | 'target' | 'workgroupSize' | 'fill' | 'keep'> & Partial<Pick<GatherIndexSpec, 'fill' | 'keep'>>;

/** A gather-index step writing `count` elements (none when the output is empty). */
function moveStep(cx: LoweringContext, map: MapSpec, bound: ArgRef[]): Step | undefined {
  const count = numel(map.shape);
  if (count === 0) return undefined;
  const spec: GatherIndexSpec = { kernel: 'gather-index', target: { shaderF16: cx.target.shaderF16 }, workgroupSize: 64, fill: 0, keep: false, ...map };
  const kernel: Kernel = cx.kernel(gatherIndex, simplifyGatherIndex(spec));
  return { kernel, args: bound, flops: count };
}

/** A one-source map over the output's own shape. */
function oneSource(cx: LoweringContext, node: Node, source: SourceMap, extra: Partial<MapSpec> = {}, out = node.outputs[0]!): Step | undefined {
  const output = tensorOf(cx, out);
  const input = tensorOf(cx, node.inputs[0]!);
  return moveStep(cx, { output, inputs: [input], shape: output.shape, sources: [source], ...extra }, args(node.inputs[0]!, out));
}

const transpose: NodeLowering = (node, cx) => {
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const perm = attrsOf(node).optInts('perm') ?? x.map((_, i) => x.length - 1 - i);
  const s = strides(x);
  return steps([oneSource(cx, node, { base: 0, terms: perm.map((p) => s[p]!) })]);
};

/** First index and count of start:end:step over a dim of size `dim`, clamped as ONNX does (ir/ops/slice.ts). */
function sliceRange(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start;
  return step > 0 ? clamp(s, 0, dim) : clamp(s, 0, dim - 1);
}

const slice: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const s = strides(x);
  const starts = a.ints('starts');
  const axes = a.optInts('axes') ?? starts.map((_, i) => i);
  const stepsAttr = a.optInts('steps') ?? starts.map(() => 1);
  const terms = [...s];
  let base = 0;
  axes.forEach((ax, k) => {
    const axis = normAxis(ax, x.length);
    const first = sliceRange(x[axis]!, starts[k]!, 0, stepsAttr[k]!);
    base += first * s[axis]!;
    terms[axis] = stepsAttr[k]! * s[axis]!;
  });
  return steps([oneSource(cx, node, { base, terms })]);
};

const expand: NodeLowering = (node, cx) => {
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const out = tensorOf(cx, node.outputs[0]!).shape;
  const s = strides(x);
  const pad = out.length - x.length;
  return steps([oneSource(cx, node, { base: 0, terms: out.map((_, a) => (a < pad || x[a - pad] === 1 ? 0 : s[a - pad]!)) })]);
};

const padLowering: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const s = strides(x);
  const pads = a.ints('pads');
  const axes = (a.optInts('axes') ?? x.map((_, i) => i)).map((ax) => normAxis(ax, x.length));
  const mode = a.string('mode') as PadMode;
  let base = 0;
  const terms: AxisTerm[] = [...s];
  axes.forEach((axis, k) => {
    const [begin, end] = [pads[k]!, pads[k + axes.length]!];
    const lo = Math.max(0, -begin);
    if (begin <= 0 && end <= 0) base += lo * s[axis]!; // a crop: still affine
    else terms[axis] = { pad: mode, lead: Math.max(0, begin), lo, kept: x[axis]! - lo - Math.max(0, -end), mult: s[axis]! };
  });
  return steps([oneSource(cx, node, { base, terms }, { fill: mode === 'constant' ? a.float('value') : 0 })]);
};

const gather: NodeLowering = (node, cx) => {
  const data = tensorOf(cx, node.inputs[0]!);
  const indices = tensorOf(cx, node.inputs[1]!);
  const output = tensorOf(cx, node.outputs[0]!);
  const axis = normAxis(attrsOf(node).int('axis'), data.shape.length);
  const ds = strides(data.shape);
  const is = strides(indices.shape);
  const r = indices.shape.length;
  // Output axes: data's before `axis`, then the index tensor's, then data's after `axis`.
  const terms = output.shape.map((_, o) => (o < axis ? ds[o]! : o < axis + r ? 0 : ds[o - r + 1]!));
  const gatherTerms = output.shape.map((_, o) => (o >= axis && o < axis + r ? is[o - axis]! : 0));
  const source: SourceMap = { base: 0, terms, gather: { len: data.shape[axis]!, mult: ds[axis]!, terms: gatherTerms } };
  return steps([moveStep(cx, { output, inputs: [data], indices, shape: output.shape, sources: [source] }, args(node.inputs[0]!, node.inputs[1]!, node.outputs[0]!))]);
};

const trilu: NodeLowering = (node, cx) => {
  const a = attrsOf(node);
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const r = x.length;
  return steps([oneSource(cx, node, { base: 0, terms: strides(x) }, { mask: { row: r - 2, col: r - 1, upper: a.int('upper') === 1, k: a.int('k') } })]);
};

const split: NodeLowering = (node, cx) => {
  const x = tensorOf(cx, node.inputs[0]!).shape;
  const axis = normAxis(attrsOf(node).int('axis'), x.length);
  const s = strides(x);
  let at = 0;
  return steps(
    node.outputs.map((out) => {
      const base = at * s[axis]!;
      at += tensorOf(cx, out).shape[axis]!;
      return oneSource(cx, node, { base, terms: s }, {}, out);
    }),
  );
};

/**
 * Concat: one kernel reads up to 7 inputs, each covering its interval of the axis. More inputs take one dispatch
 * per group of 7: unpacked outputs iterate only the group's slab and place it; packed outputs rewrite whole words,
 * keeping the lanes other groups own.
 */
const concat: NodeLowering = (node, cx) => {
  const output = tensorOf(cx, node.outputs[0]!);
  const axis = normAxis(attrsOf(node).int('axis'), output.shape.length);
  const outer = numel(output.shape.slice(0, axis));
  const inner = numel(output.shape.slice(axis + 1));
  const len = output.shape[axis]!;
  let at = 0;
  const parts = node.inputs
    .map((value) => {
      const t = tensorOf(cx, value);
      const from = at;
      at += t.shape[axis]!;
      return { value, t, from, to: at };
    })
    .filter((p) => p.to > p.from);
  const groups: (typeof parts)[] = [];
  for (let g = 0; g < parts.length; g += MAX_SOURCES) groups.push(parts.slice(g, g + MAX_SOURCES));
  const packed = storageLayout(output.dtype, numel(output.shape), cx.target).lanes > 1;
  return steps(
    groups.map((group) => {
      // Slab mode: iterate [outer, group's span, inner] and place it at the group's offset.
      const slab = groups.length > 1 && !packed;
      const offset = slab ? group[0]!.from : 0;
      const span = slab ? group[group.length - 1]!.to - offset : len;
      const sources = group.map(
        (p): SourceMap => ({
          base: -(p.from - offset) * inner,
          terms: [(p.to - p.from) * inner, inner, 1],
          covers: { axis: 1, from: p.from - offset, to: p.to - offset },
        }),
      );
      const map: MapSpec = {
        output,
        inputs: group.map((p) => p.t),
        shape: [outer, span, inner],
        sources,
        keep: groups.length > 1 && packed,
        ...(slab ? { place: { base: offset * inner, terms: [len * inner, inner, 1] } } : {}),
      };
      return moveStep(cx, map, args(...group.map((p) => p.value), node.outputs[0]!));
    }),
  );
};

const lowerResize: NodeLowering = (node, cx) => {
  const spec = resizeSpec(node, cx.typeOf, cx.target);
  if (numel(spec.output.shape) === 0) return steps([]);
  return steps([{ kernel: cx.kernel(resize, spec), args: args(node.inputs[0]!, node.outputs[0]!), flops: resizeFlops(spec) }]);
};

const lowerPool: NodeLowering = (node, cx) => {
  const spec = poolSpec(node, cx.typeOf, cx.target);
  const outputs = numel(spec.output.shape);
  if (outputs === 0) return steps([]);
  return steps([{ kernel: cx.kernel(pool, spec), args: args(node.inputs[0]!, node.outputs[0]!), flops: outputs * numel(spec.kernelShape) }]);
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
