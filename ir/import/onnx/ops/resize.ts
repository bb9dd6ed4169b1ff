// Resize and Upsample. kiln's Resize takes the output size as an attribute, so the importer computes it the way
// ONNX's reference does: from `sizes` (with keep_aspect_ratio_policy, 18+, rescaling every resized axis by one
// factor and rounding half up), or as floor(scale * in) from `scales`, which are also passed along because
// coordinates map through the given scale. Versions:
//   Upsample 7-8 (scales attribute), 9 (scales input); Resize 10 (X, scales), 11-12 (X, roi, scales, sizes?),
//   13-17 (roi and scales optional), 18 (antialias, axes, keep_aspect_ratio_policy), 19+ (half_pixel_symmetric).
// Upsample and Resize-10 sample as ONNX's Upsample does: asymmetric coordinates, nearest rounding down.
// Symbolic input dims: `sizes` may be shape arithmetic folded over them (sym-fold.ts: PyTorch's Shape -> Mul ->
// Cast -> Concat), kept as dims; a constant scale p/2^k on a symbolic axis gives floor(in * p / 2^k) as a dim;
// scales computed as Cast(sizes) / Cast(Shape(x)) fold to numbers when they divide exactly.
import { dimFloorDiv, dimMul } from '../../../dim.js';
import type { Attrs } from '../../../graph.js';
import type { Dim } from '../../../shape.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, defined, passAttrs, rules } from '../rule.js';

interface SizeSource {
  readonly scales?: readonly number[];
  readonly sizes?: readonly Dim[];
  readonly roi?: readonly number[];
}

/**
 * Known floats of an optional input; an empty tensor counts as absent (ONNX 11 passes '' or []). Float shape
 * arithmetic that folded to numbers (sym-fold.ts) counts as known.
 */
function optionalFloats(cx: NodeContext, i: number, what: string): number[] | undefined {
  const sym = cx.has(i) && cx.values.isSym(cx.input(i)) ? cx.values.symOf(cx.input(i)) : undefined;
  if (sym && sym.dims.every((d) => typeof d === 'number'))
    return sym.dims.map((d, k) => (d as number) / (sym.den?.[k] ?? 1));
  const v = cx.constValues(i, what);
  return v && v.length ? v : undefined;
}

/** Integer sizes, or dims computed from symbolic shapes; an empty tensor counts as absent. */
function optionalDims(cx: NodeContext, i: number, what: string): Dim[] | undefined {
  const v = cx.has(i) && cx.values.isSym(cx.input(i)) ? cx.constDims(i, what) : cx.constValues(i, what);
  return v && v.length ? v : undefined;
}

/** floor(in * scale) for a symbolic in size: exact when scale is p / 2^k with k <= 10 (what f32 scales are). */
function scaledDim(cx: NodeContext, axis: number, inSize: Dim, scale: number): Dim {
  for (let q = 1; q <= 1024; q *= 2)
    if (Number.isSafeInteger(scale * q) && scale * q > 0) return dimFloorDiv(dimMul(inSize, scale * q), q);
  return unsupported('dynamic', `Resize scale ${scale} of axis ${axis} of '${cx.input(0)}', which is symbolic (${inSize}): kiln needs a scale that is a multiple of 1/1024 there, or specialise the dim`);
}

/** Output sizes (and the scales used for coordinates) per resized axis, following onnx/reference op_resize.py. */
function outputSizes(cx: NodeContext, axes: readonly number[], src: SizeSource, policy: string): { sizes: Dim[]; scales?: number[] } {
  const shape = cx.type(0).shape;
  const inSize = axes.map((a) => shape[a]!);
  const staticIn = (k: number): number => {
    const d = inSize[k]!;
    if (typeof d !== 'number')
      return unsupported('dynamic', `Resize keep_aspect_ratio_policy '${policy}' of '${cx.input(0)}' [${shape.join(',')}], whose axis ${axes[k]} is symbolic (specialise it)`);
    return d;
  };
  if (src.sizes) {
    if (src.sizes.length !== axes.length) invalid(`Resize sizes [${src.sizes.join(',')}] must have ${axes.length} entries`);
    if (policy === 'stretch') return { sizes: [...src.sizes] };
    const given = src.sizes.map((s, k) => {
      if (typeof s !== 'number')
        return unsupported('dynamic', `Resize keep_aspect_ratio_policy '${policy}' with sizes [${src.sizes!.join(',')}] computed from symbolic dims (specialise them)`);
      return s;
    });
    const ratios = given.map((s, k) => s / staticIn(k));
    const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    return { sizes: axes.map((_, k) => Math.floor(scale * staticIn(k) + 0.5)), scales: axes.map(() => scale) };
  }
  if (!src.scales) return invalid('Resize needs scales or sizes');
  if (src.scales.length !== axes.length) invalid(`Resize scales [${src.scales.join(',')}] must have ${axes.length} entries`);
  const sizes = src.scales.map((s, k): Dim => {
    const d = inSize[k]!;
    if (typeof d === 'number') return Math.floor(s * d);
    return s === 1 ? d : scaledDim(cx, axes[k]!, d, s);
  });
  return { sizes, scales: [...src.scales] };
}

function emitResize(cx: NodeContext, src: SizeSource, attrs: Attrs): void {
  const rank = cx.type(0).shape.length;
  const given = attrs.axes as readonly number[] | undefined;
  const axes = given ? given.map((a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, i) => i);
  const policy = (attrs.keep_aspect_ratio_policy as string | undefined) ?? 'stretch';
  const { sizes, scales } = outputSizes(cx, axes, src, policy);
  cx.emitOutputs('Resize', [cx.input(0)], defined({ ...attrs, roi: src.roi, sizes, scales }));
}

/** Upsample and Resize-10: mode nearest or linear ('bilinear' in some exporters), asymmetric coordinates. */
function upsampleLike(cx: NodeContext, scales: readonly number[] | undefined): void {
  const mode = cx.attrs.string('mode', 'nearest');
  const irMode = mode === 'bilinear' ? 'linear' : mode;
  if (irMode !== 'nearest' && irMode !== 'linear') unsupported('attribute', `${cx.op} mode '${mode}'`);
  emitResize(cx, { ...(scales ? { scales } : {}) }, { mode: irMode, coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
}

/** Resize 11+: roi (1), scales (2) and sizes (3) are inputs; exactly one of scales and sizes is given. */
function resize(cx: NodeContext): void {
  const attrs = passAttrs(cx, 'Resize');
  const scales = optionalFloats(cx, 2, 'scales');
  const sizes = optionalDims(cx, 3, 'sizes');
  if (scales && sizes) invalid('Resize takes scales or sizes, not both');
  const mode = attrs.coordinate_transformation_mode ?? 'half_pixel';
  const roi = mode === 'tf_crop_and_resize' ? optionalFloats(cx, 1, 'roi') : undefined;
  emitResize(cx, { ...(scales ? { scales } : {}), ...(sizes ? { sizes } : {}), ...(roi ? { roi } : {}) }, attrs);
}

export const RESIZE_RULES: OpRule[] = [
  ...rules('Upsample', [7, 8, (cx) => upsampleLike(cx, cx.attrs.floats('scales'))], [9, 9, (cx) => upsampleLike(cx, optionalFloats(cx, 1, 'scales'))]),
  ...rules(
    'Resize',
    [10, 10, (cx) => upsampleLike(cx, optionalFloats(cx, 1, 'scales'))],
    // 11-12, 13-17, 18 and 19+ differ in which inputs are optional and which attributes exist; the IR schema
    // holds the union, so one mapping serves them all.
    [11, 12, resize],
    [13, 17, resize],
    [18, 18, resize],
    [19, undefined, resize],
  ),
];
