// Where a channel axis goes through Transpose and the reshapes (Reshape, Flatten, Squeeze, Unsqueeze). A reshape
// keeps channels prunable when the axis comes out whole (same extent, the same elements before and after it) or
// flattened with everything after it (NCHW -> [N, C*H*W] before a Linear: each channel becomes H*W consecutive
// columns, papers.md §1.4 "flatten -> linear"). Splitting the axis (heads) or merging it with what precedes it
// mixes channels with other elements; the caller makes that a barrier.
import type { Node, Shape } from '../../ir/index.js';
import type { ChannelOf } from './channel-flow.js';

export function channelAfterTranspose(node: Node, c: ChannelOf, rank: number): ChannelOf {
  const perm = (node.attrs.perm as readonly number[] | undefined) ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  return { ...c, axis: perm.indexOf(c.axis) };
}

/** The dims as one extent: their product when all are numbers, else the list without 1s (symbols compared by name). */
function extent(dims: Shape): string {
  if (dims.every((d) => typeof d === 'number')) return String((dims as number[]).reduce((a, b) => a * b, 1));
  return dims.filter((d) => d !== 1).join('*');
}

/** The channel axis of the output of a reshape from inShape to outShape, or undefined if channels get mixed. */
export function channelAfterReshape(inShape: Shape, outShape: Shape, c: ChannelOf, channels: number): ChannelOf | undefined {
  const a = c.axis;
  if (inShape[a] !== channels * c.unit) return undefined;
  const before = extent(inShape.slice(0, a));
  const after = inShape.slice(a + 1);
  for (let b = 0; b < outShape.length; b++) {
    if (extent(outShape.slice(0, b)) !== before) continue;
    if (outShape[b] === inShape[a] && extent(outShape.slice(b + 1)) === extent(after)) return { ...c, axis: b };
    const rest = after.every((d) => typeof d === 'number') ? (after as number[]).reduce((x, y) => x * y, 1) : undefined;
    if (rest !== undefined && b === outShape.length - 1 && outShape[b] === channels * c.unit * rest) return { ...c, axis: b, unit: c.unit * rest };
  }
  return undefined;
}
