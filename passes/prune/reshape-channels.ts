// Where a channel axis goes through Transpose and the reshapes (Reshape, Flatten, Squeeze, Unsqueeze). A reshape
// keeps channels prunable when the axis comes out whole (same extent, the same elements before and after it) or
// flattened with everything after it (NCHW -> [N, C*H*W] before a Linear: each channel becomes H*W consecutive
// columns, papers.md §1.4 "flatten -> linear"). Splitting the axis (heads) or merging it with what precedes it
// mixes channels with other elements; the caller makes that a barrier. Splitting the axis into [heads, head_dim]
// keeps channels whole when a head holds whole channels (the space coarsens to heads) or a channel whole heads.
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

/**
 * Where the channel axis is after a reshape from inShape to outShape: its axis and unit, and by how much the space
 * must coarsen (a split of the axis into [heads, head_dim] finer than the channels makes a head one channel); or
 * undefined when channels get mixed with other elements.
 */
export function channelAfterReshape(inShape: Shape, outShape: Shape, c: ChannelOf, channels: number): { axis: number; unit: number; coarsen: number } | undefined {
  const a = c.axis;
  const width = inShape[a];
  if (width !== channels * c.unit) return undefined;
  const before = extent(inShape.slice(0, a));
  const after = inShape.slice(a + 1);
  for (let b = 0; b < outShape.length; b++) {
    const lead = outShape[b];
    if (extent(outShape.slice(0, b)) !== before || typeof lead !== 'number') continue;
    // The axis comes out as `lead` blocks of `block` elements, each block's elements (and what follows) after it.
    // A unit axis in front (a batch of 1) is not where the channels went.
    const block = width / lead;
    if (Number.isInteger(block) && (lead > 1 || width === 1) && extent(outShape.slice(b + 1)) === extent([block, ...after])) {
      if (block % c.unit === 0) return { axis: b, unit: 1, coarsen: block / c.unit };
      if (c.unit % block === 0) return { axis: b, unit: c.unit / block, coarsen: 1 };
    }
    // Flattened with everything after it (NCHW -> [N, C*H*W]).
    const rest = after.every((d) => typeof d === 'number') ? (after as number[]).reduce((x, y) => x * y, 1) : undefined;
    if (rest !== undefined && b === outShape.length - 1 && lead === width * rest) return { axis: b, unit: c.unit * rest, coarsen: 1 };
  }
  return undefined;
}
