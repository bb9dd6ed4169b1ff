// Resize and Upsample. kiln's Resize takes the output size as an attribute, so the importer computes it the way
// ONNX's reference does: from `sizes` (with keep_aspect_ratio_policy, 18+, rescaling every resized axis by one
// factor and rounding half up), or as floor(scale * in) from `scales`, which are also passed along because
// coordinates map through the given scale. Versions:
//   Upsample 7-8 (scales attribute), 9 (scales input); Resize 10 (X, scales), 11-12 (X, roi, scales, sizes?),
//   13-17 (roi and scales optional), 18 (antialias, axes, keep_aspect_ratio_policy), 19+ (half_pixel_symmetric).
// Upsample and Resize-10 sample as ONNX's Upsample does: asymmetric coordinates, nearest rounding down.
import type { Attrs } from '../../../graph.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, defined, passAttrs, rules } from '../rule.js';

interface SizeSource {
  readonly scales?: readonly number[];
  readonly sizes?: readonly number[];
  readonly roi?: readonly number[];
}

/** Known floats of an optional input; an empty tensor counts as absent (ONNX 11 passes '' or []). */
function optionalFloats(cx: NodeContext, i: number, what: string): number[] | undefined {
  const v = cx.constValues(i, what);
  return v && v.length ? v : undefined;
}

/** Output sizes (and the scales used for coordinates) per resized axis, following onnx/reference op_resize.py. */
function outputSizes(cx: NodeContext, axes: readonly number[], src: SizeSource, policy: string): { sizes: number[]; scales?: number[] } {
  const shape = cx.type(0).shape;
  const inSize = axes.map((a) => shape[a]!);
  const staticIn = (k: number): number => {
    const d = inSize[k]!;
    if (typeof d !== 'number') return unsupported('dynamic', `Resize of axis ${axes[k]} of '${cx.input(0)}' [${shape.join(',')}], which is symbolic`);
    return d;
  };
  if (src.sizes) {
    if (src.sizes.length !== axes.length) invalid(`Resize sizes [${src.sizes.join(',')}] must have ${axes.length} entries`);
    if (policy === 'stretch') return { sizes: [...src.sizes] };
    const ratios = src.sizes.map((s, k) => s / staticIn(k));
    const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
    return { sizes: axes.map((_, k) => Math.floor(scale * staticIn(k) + 0.5)), scales: axes.map(() => scale) };
  }
  if (!src.scales) return invalid('Resize needs scales or sizes');
  if (src.scales.length !== axes.length) invalid(`Resize scales [${src.scales.join(',')}] must have ${axes.length} entries`);
  const sizes = src.scales.map((s, k) => (s === 1 && typeof inSize[k] !== 'number' ? 1 : Math.floor(s * staticIn(k))));
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
  const sizes = optionalFloats(cx, 3, 'sizes');
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
