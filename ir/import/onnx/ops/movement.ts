// Data movement: Transpose, Concat, Gather, and the ops whose ranges are attributes in kiln (Split sizes, Slice
// starts/ends/axes/steps, Pad pads/value/axes), each in the forms its ONNX versions take (attributes first, inputs
// later). Tile is expressed as Reshape -> Expand -> Reshape.
import type { Attrs } from '../../../graph.js';
import { isStaticShape } from '../../../shape.js';
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { requireKnown } from '../known.js';
import { type OpRule, clampI32, defined, direct, rules } from '../rule.js';

/**
 * Split: sizes as an attribute (2-12) or an input (13+), or from 18 `num_outputs`; with neither, equal parts,
 * one per output.
 */
function split(cx: NodeContext, sizesFrom: 'attr' | 'input', numOutputsAttr: boolean): void {
  const sizes = sizesFrom === 'attr' ? cx.attrs.ints('split') : cx.constInts(1, 'split');
  const axis = cx.attrs.int('axis', 0);
  const count = numOutputsAttr ? cx.attrs.int('num_outputs') : undefined;
  if (sizes !== undefined && count !== undefined) invalid('Split takes either split or num_outputs, not both');
  if (sizes !== undefined && sizes.length !== cx.outputCount)
    invalid(`Split has ${cx.outputCount} outputs but split lists ${sizes.length} sizes`);
  const attrs: Attrs = sizes !== undefined ? { axis, split: sizes } : { axis, num_outputs: count ?? cx.outputCount };
  cx.emitOutputs('Split', [cx.input(0)], attrs);
}

/** Slice: starts/ends/axes as attributes (1-9) or inputs with steps (10+). INT64 extremes clamp to the i32 range. */
function slice(cx: NodeContext, fromInputs: boolean): void {
  const get = (attr: string, input: number): number[] | undefined =>
    fromInputs ? cx.constInts(input, attr) : attr === 'steps' ? undefined : cx.attrs.ints(attr);
  const starts = get('starts', 1) ?? invalid('Slice needs starts');
  // Ends may be symbolic (x[:, :seq] with seq from a Shape chain); starts, axes and steps are static.
  const ends = (fromInputs ? cx.constDims(2, 'ends') : cx.attrs.ints('ends')) ?? invalid('Slice needs ends');
  const axes = get('axes', 3);
  const steps = get('steps', 4);
  cx.emitOutputs('Slice', [cx.input(0)], defined({ starts: starts.map(clampI32), ends: ends.map((e) => (typeof e === 'number' ? clampI32(e) : e)), axes, steps: steps?.map(clampI32) }));
}

/**
 * Pad: pads/value as attributes (2-10), as inputs (11+, with axes from 18). pads and axes set the output shape
 * and must be known; constant_value is data and may be computed (see padWithComputedValue).
 */
function pad(cx: NodeContext, fromInputs: boolean): void {
  const mode = cx.attrs.string('mode', 'constant');
  if (fromInputs) {
    requireKnown(cx, 1, 'pads');
    requireKnown(cx, 3, 'axes');
    const pads = cx.constInts(1, 'pads') ?? invalid('Pad needs pads');
    const axes = cx.constInts(3, 'axes');
    if (mode === 'constant' && cx.has(2) && !cx.constant(2)) return padWithComputedValue(cx, defined({ pads, axes }));
    const value = mode === 'constant' ? cx.constScalar(2, 'constant_value') : undefined;
    cx.emitOutputs('Pad', [cx.input(0)], defined({ pads, mode, value, axes }));
  } else {
    const pads = cx.attrs.ints('pads') ?? invalid('Pad needs pads');
    cx.emitOutputs('Pad', [cx.input(0)], defined({ pads, mode, value: cx.attrs.float('value') }));
  }
}

/** Pad with a run-time constant_value: pad with 0, then Where(known mask of the copied cells, padded, value). */
function padWithComputedValue(cx: NodeContext, attrs: Attrs): void {
  const shape = cx.type(0).shape;
  if (!isStaticShape(shape)) return unsupported('dynamic', `Pad of '${cx.input(0)}' [${shape.join(',')}] with a computed constant_value needs static dims`);
  const padded = cx.emit1('Pad', [cx.input(0)], attrs);
  const copied = cx.emit1('Pad', [cx.newConst(makeTensor('bool', shape, () => 1), 'copied')], attrs);
  cx.emitOutputs('Where', [copied, padded, cx.input(2)]);
}

/** Tile(x, repeats) = Reshape(Expand(Reshape(x, [1,d0,1,d1,...]), [r0,d0,r1,d1,...]), [r0*d0, r1*d1, ...]). */
function tile(cx: NodeContext): void {
  const repeats = cx.constInts(1, 'repeats') ?? invalid('Tile needs repeats');
  const shape = cx.type(0).shape;
  if (!isStaticShape(shape)) return unsupported('dynamic', `Tile of '${cx.input(0)}' [${shape.join(',')}] needs static dims`);
  if (repeats.length !== shape.length) invalid(`Tile repeats [${repeats.join(',')}] must have one entry per dim of [${shape.join(',')}]`);
  if (repeats.some((r) => r < 0)) invalid(`Tile repeats [${repeats.join(',')}] must not be negative`);
  const spread = cx.emit1('Reshape', [cx.input(0)], { shape: shape.flatMap((d) => [1, d]) });
  const grown = cx.emit1('Expand', [spread], { shape: shape.flatMap((d, i) => [repeats[i]!, d]) });
  cx.emitOutputs('Reshape', [grown], { shape: shape.map((d, i) => d * repeats[i]!) });
}

export const MOVEMENT_RULES: OpRule[] = [
  ...rules('Transpose', [1, undefined, direct()]),
  ...rules('Concat', [4, undefined, direct()]),
  ...rules('Gather', [1, undefined, direct()]),
  ...rules(
    'Split',
    [2, 12, (cx) => split(cx, 'attr', false)],
    [13, 17, (cx) => split(cx, 'input', false)],
    [18, undefined, (cx) => split(cx, 'input', true)],
  ),
  ...rules('Slice', [1, 9, (cx) => slice(cx, false)], [10, undefined, (cx) => slice(cx, true)]),
  ...rules('Pad', [2, 10, (cx) => pad(cx, false)], [11, undefined, (cx) => pad(cx, true)]),
  ...rules('Tile', [6, undefined, tile]),
];
