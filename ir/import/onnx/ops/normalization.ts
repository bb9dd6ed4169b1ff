// Normalisations that kiln writes with existing IR ops: LRN (a channel-window AveragePool of x²), LpNormalization
// (a ReduceSum norm), InstanceNormalization and GroupNormalization (LayerNormalization over a view of x with a
// unit scale, then the per-channel affine map), MeanVarianceNormalization (ReduceMean statistics). Every piece
// is exact and the elementwise tails fuse into one kernel each.
import { isStaticDim } from '../../../shape.js';
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** A scalar constant of input 0's dtype. */
const scalar = (cx: NodeContext, v: number, hint: string): string => cx.newConst(scalarTensor(cx.type(0).dtype, v), hint);

/** Input 0's rank, at least `min` (N, C and the rest). */
function rankOf(cx: NodeContext, min: number): number {
  const rank = cx.type(0).shape.length;
  if (rank < min) invalid(`${cx.op} needs an input of rank >= ${min} (N x C x ...), got rank ${rank}`);
  return rank;
}

/**
 * LRN (1, 13): y = x / (bias + alpha/size * square_sum)^beta, square_sum summing x² over the channels
 * c - floor((size-1)/2) .. c + ceil((size-1)/2) that exist. The channel axis is made a spatial one (Unsqueeze at
 * 1), so an AveragePool with kernel [size, 1, ...] and count_include_pad=1 gives square_sum / size exactly: the
 * channels outside the tensor are zero padding and every window has size taps.
 */
function lrn(cx: NodeContext): void {
  const size = cx.attrs.int('size') ?? invalid('LRN needs attribute size');
  if (size < 1) invalid(`LRN size must be >= 1, got ${size}`);
  const rank = rankOf(cx, 2);
  const x = cx.input(0);
  const spatial = rank - 1; // channels and the original spatial dims
  const kernel = [size, ...Array<number>(spatial - 1).fill(1)];
  const pads = [Math.floor((size - 1) / 2), ...Array<number>(spatial - 1).fill(0), Math.ceil((size - 1) / 2), ...Array<number>(spatial - 1).fill(0)];
  const squares = cx.emit1('Unsqueeze', [cx.emit1('Mul', [x, x])], { axes: [1] });
  const pooled = cx.emit1('AveragePool', [squares], { kernel_shape: kernel, pads, count_include_pad: 1 });
  const mean = cx.emit1('Squeeze', [pooled], { axes: [1] });
  const scaled = cx.emit1('Add', [cx.emit1('Mul', [mean, scalar(cx, cx.attrs.float('alpha', 1e-4), 'alpha')]), scalar(cx, cx.attrs.float('bias', 1), 'bias')]);
  cx.emitOutputs('Div', [x, cx.emit1('Pow', [scaled, scalar(cx, cx.attrs.float('beta', 0.75), 'beta')])]);
}

/**
 * LpNormalization (1, 22): x / ||x||_p along axis, p 1 or 2 (|x| summed, as the norm is defined). A zero norm
 * gives 0 rather than 0/0, as ONNX's reference does.
 */
function lpNormalization(cx: NodeContext): void {
  const p = cx.attrs.int('p', 2);
  if (p !== 1 && p !== 2) invalid(`LpNormalization p must be 1 or 2, got ${p}`);
  const x = cx.input(0);
  const axes = [cx.attrs.int('axis', -1)];
  const norm =
    p === 1
      ? cx.emit1('ReduceSum', [cx.emit1('Abs', [x])], { axes, keepdims: 1 })
      : cx.emit1('Sqrt', [cx.emit1('ReduceSum', [cx.emit1('Mul', [x, x])], { axes, keepdims: 1 })]);
  const zero = scalar(cx, 0, 'zero');
  cx.emitOutputs('Where', [cx.emit1('Equal', [norm, zero]), zero, cx.emit1('Div', [x, norm])]);
}

/** LayerNormalization of `x` over axes [axis, rank) with a unit scale and no bias: (x - mean) / sqrt(var + eps). */
function standardize(cx: NodeContext, x: string, axis: number): string {
  const one = cx.newConst(makeTensor(cx.type(0).dtype, [1], [1]), 'one');
  return cx.emit1('LayerNormalization', [x, one], { axis, epsilon: cx.attrs.float('epsilon', 1e-5) });
}

/** y * scale + bias with per-channel [C] scale and bias broadcast over N and the spatial dims. */
function channelAffine(cx: NodeContext, y: string, scale: string, bias: string, rank: number): void {
  const axes = range(1, rank - 1);
  const perChannel = (v: string): string => (axes.length ? cx.emit1('Unsqueeze', [v], { axes }) : v);
  cx.emitOutputs('Add', [cx.emit1('Mul', [y, perChannel(scale)]), perChannel(bias)]);
}

/** InstanceNormalization (6, 22): each (n, c) plane normalised over its spatial dims, then scale[c] and B[c]. */
function instanceNorm(cx: NodeContext): void {
  const rank = rankOf(cx, 3);
  channelAffine(cx, standardize(cx, cx.input(0), 2), cx.input(1), cx.input(2), rank);
}

/**
 * GroupNormalization: x viewed as [N, G, C/G * spatial] is normalised over its last axis. From opset 21 scale and
 * bias have one entry per channel; in 18 one per group, which is spread over the group's channels here.
 */
function groupNorm(cx: NodeContext, perGroupScale: boolean): void {
  const rank = rankOf(cx, 2);
  const shape = cx.type(0).shape;
  const groups = cx.attrs.int('num_groups') ?? invalid('GroupNormalization needs attribute num_groups');
  const channels = shape[1]!;
  if (!isStaticDim(channels))
    unsupported('dynamic', `GroupNormalization over '${cx.input(0)}' [${shape.join(',')}] needs a static channel dim`);
  if (groups < 1 || (channels as number) % groups !== 0)
    invalid(`GroupNormalization num_groups ${groups} must divide the ${channels} channels of '${cx.input(0)}'`);
  const grouped = cx.emit1('Reshape', [cx.input(0)], { shape: [0, groups, -1] });
  const y = cx.emit1('Reshape', [standardize(cx, grouped, 2)], { shape: [...shape] });
  const spread = (v: string): string => {
    if (!perGroupScale) return v;
    const per = cx.emit1('Expand', [cx.emit1('Reshape', [v], { shape: [groups, 1] })], { shape: [groups, (channels as number) / groups] });
    return cx.emit1('Reshape', [per], { shape: [channels] });
  };
  channelAffine(cx, y, spread(cx.input(1)), spread(cx.input(2)), rank);
}

/**
 * MeanVarianceNormalization (9, 13): (x - mean) / (sqrt(var) + 1e-9) over `axes` (default [0, 2, 3]). The
 * variance is the mean of squared deviations (two passes), which equals ONNX's E[x²] - E[x]² without its
 * cancellation.
 */
function meanVarianceNorm(cx: NodeContext): void {
  const axes = cx.attrs.ints('axes') ?? [0, 2, 3];
  const x = cx.input(0);
  const centred = cx.emit1('Sub', [x, cx.emit1('ReduceMean', [x], { axes, keepdims: 1 })]);
  const variance = cx.emit1('ReduceMean', [cx.emit1('Mul', [centred, centred])], { axes, keepdims: 1 });
  const std = cx.emit1('Add', [cx.emit1('Sqrt', [variance]), scalar(cx, 1e-9, 'epsilon')]);
  cx.emitOutputs('Div', [centred, std]);
}

export const NORMALIZATION_RULES: OpRule[] = [
  // LRN 13 and LpNormalization/InstanceNormalization 22 only add dtypes.
  ...rules('LRN', [1, 12, lrn], [13, undefined, lrn]),
  ...rules('LpNormalization', [1, 21, lpNormalization], [22, undefined, lpNormalization]),
  ...rules('InstanceNormalization', [6, 21, instanceNorm], [22, undefined, instanceNorm]),
  ...rules('GroupNormalization', [18, 20, (cx) => groupNorm(cx, true)], [21, undefined, (cx) => groupNorm(cx, false)]),
  ...rules('MeanVarianceNormalization', [9, 12, meanVarianceNorm], [13, undefined, meanVarianceNorm]),
];
