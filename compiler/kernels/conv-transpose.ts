// ConvTranspose specs. The kernel is conv.ts's generator with `transpose` set: each output element gathers the
// input elements that scatter onto it (i = (o + pad - tap*dilation) / stride where that divides exactly), as
// implicit GEMM or directly. Here only the geometry is resolved: the output size comes from the inferred type
// (which already honours output_padding and output_shape); the crop at the start of each spatial dim follows
// ONNX (and ir/ops/conv-transpose.ts): explicit pads, or under SAME_UPPER / SAME_LOWER the total crop
// full - target split with the odd cell at the end (UPPER) or the start (LOWER).
import type { AttrReader } from '../../ir/op.js';
import type { Target } from '../wgsl/build.js';
import { type ConvIO, type ConvPath, type ConvSpec, convSpecFrom } from './conv.js';
import type { Epilogue } from './matmul-epilogue.js';

function perDim(attrs: AttrReader, name: string, n: number, fill: number): number[] {
  return [...(attrs.optInts(name) ?? new Array<number>(n).fill(fill))];
}

/** How far the full scatter result is cropped at the start of each spatial dim (negative: shifted right). */
export function convTransposePadBegin(io: ConvIO, attrs: AttrReader): number[] {
  const inSize = io.x.shape.slice(2);
  const kernel = io.w.shape.slice(2);
  const outSize = io.out.shape.slice(2);
  const n = inSize.length;
  const strides = perDim(attrs, 'strides', n, 1);
  const dilations = perDim(attrs, 'dilations', n, 1);
  const outputPadding = perDim(attrs, 'output_padding', n, 0);
  const pads = perDim(attrs, 'pads', 2 * n, 0);
  const autoPad = attrs.string('auto_pad');
  return inSize.map((size, i) => {
    if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') return autoPad === 'VALID' ? 0 : pads[i]!;
    const full = strides[i]! * (size - 1) + outputPadding[i]! + dilations[i]! * (kernel[i]! - 1) + 1;
    const total = full - outSize[i]!;
    const half = Math.floor(total / 2);
    return autoPad === 'SAME_UPPER' ? half : total - half;
  });
}

/** The spec of a ConvTranspose node (attributes already verified by the IR op). */
export function convTransposeSpec(target: Target, io: ConvIO, attrs: AttrReader, extra: { epilogue?: Epilogue; path?: ConvPath } = {}): ConvSpec {
  const n = io.x.shape.length - 2;
  return convSpecFrom(
    target,
    io,
    {
      transpose: true,
      group: attrs.int('group'),
      strides: perDim(attrs, 'strides', n, 1),
      dilations: perDim(attrs, 'dilations', n, 1),
      padBegin: convTransposePadBegin(io, attrs),
    },
    extra,
  );
}
