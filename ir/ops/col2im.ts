// Col2Im (ONNX 18): the adjoint of im2col. Input [N, C * prod(block_shape), L] holds, for every one of the L
// sliding-block positions (row-major over the blocks that fit the padded image), the block's C x block values;
// each is added back onto the image [N, C, ...image_shape] at its position (strides, dilations and pads as in
// Conv). Values landing in the padding are dropped. image_shape and block_shape are ONNX inputs, which the
// importer folds into attributes. Semantics: onnx/reference's op_col2im.py.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';
import { requireFloat } from './shape-util.js';

export interface Col2ImGeometry {
  readonly image: readonly number[];
  readonly block: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Begin pads (the end pads only decide how many blocks fit). */
  readonly padsBegin: readonly number[];
  /** Block positions along each dim. */
  readonly blocks: readonly number[];
}

export function col2imGeometry(attrs: AttrReader): Col2ImGeometry {
  const image = attrs.ints('image_shape');
  const block = attrs.ints('block_shape');
  const n = image.length;
  const list = (name: string, length: number, fill: number, min: number): readonly number[] => {
    const v = attrs.optInts(name) ?? new Array<number>(length).fill(fill);
    if (v.length !== length || v.some((e) => e < min)) throw new OpError(`Col2Im: ${name} must have ${length} entries >= ${min}, got [${v.join(',')}]`);
    return v;
  };
  if (n < 1 || block.length !== n) throw new OpError(`Col2Im: image_shape [${image.join(',')}] and block_shape [${block.join(',')}] must have the same length >= 1`);
  if (image.some((d) => d < 1) || block.some((d) => d < 1)) throw new OpError(`Col2Im: image_shape and block_shape entries must be >= 1`);
  const strides = list('strides', n, 1, 1);
  const dilations = list('dilations', n, 1, 1);
  const pads = list('pads', 2 * n, 0, 0);
  const blocks = image.map((d, i) => Math.floor((d + pads[i]! + pads[i + n]! - dilations[i]! * (block[i]! - 1) - 1) / strides[i]!) + 1);
  if (blocks.some((b) => b < 1)) throw new OpError(`Col2Im: no block of [${block.join(',')}] fits the padded image [${image.join(',')}]`);
  return { image, block, strides, dilations, padsBegin: pads.slice(0, n), blocks };
}

registerOp({
  name: 'Col2Im',
  inputs: { min: 1, max: 1 },
  outputs: 1,
  attrs: {
    image_shape: { kind: 'ints', required: true },
    block_shape: { kind: 'ints', required: true },
    dilations: { kind: 'ints' },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const [x] = checkInputs('Col2Im', inputs, 1) as [TensorType];
    requireFloat('Col2Im', x, 'input');
    const g = col2imGeometry(attrs);
    const [batch, rows, cols] = x.shape;
    const k = numel(g.block);
    if (x.shape.length !== 3 || typeof rows !== 'number' || rows % k !== 0 || cols !== numel(g.blocks))
      throw new OpError(
        `Col2Im: input must be [N, C * ${k}, ${numel(g.blocks)}] for blocks [${g.block.join(',')}] over image [${g.image.join(',')}], got ${formatShape(x.shape)}`,
      );
    return [tensorType(x.dtype, [batch!, rows / k, ...g.image])];
  },
  reference(inputs, attrs, outTypes) {
    const x = inputs[0] as Tensor;
    const g = col2imGeometry(attrs);
    const outShape = staticShape(outTypes[0]!);
    const [k, l, plane] = [numel(g.block), numel(g.blocks), numel(g.image)];
    const out = new Float64Array(numel(outShape));
    const n = g.image.length;
    for (let nc = 0; nc < outShape[0]! * outShape[1]!; nc++)
      for (let kf = 0; kf < k; kf++)
        for (let lf = 0; lf < l; lf++) {
          // Block offset kf and block position lf, both row-major, give the image position.
          let [kr, lr, at, inside] = [kf, lf, 0, true];
          for (let d = n - 1, scale = 1; d >= 0; d--) {
            const p = (lr % g.blocks[d]!) * g.strides[d]! - g.padsBegin[d]! + (kr % g.block[d]!) * g.dilations[d]!;
            if (p < 0 || p >= g.image[d]!) inside = false;
            at += p * scale;
            scale *= g.image[d]!;
            kr = Math.floor(kr / g.block[d]!);
            lr = Math.floor(lr / g.blocks[d]!);
          }
          if (inside) out[nc * plane + at] = out[nc * plane + at]! + x.data[(nc * k + kf) * l + lf]!;
        }
    return [makeTensor(x.dtype, outShape, out)];
  },
});
