// DeformConv (ONNX 19/22), 2-D: a convolution whose every kernel tap samples X at its regular position plus a
// learned (dh, dw) offset, bilinearly with zeros outside the image, optionally scaled by a mask, then weighted by
// W. offset is [N, offset_group * kH * kW * 2, oH, oW] (per offset group and tap: dh then dw), mask
// [N, offset_group * kH * kW, oH, oW]; input channels split into offset_group groups that share offsets, and
// into `group` groups as in Conv. onnx/reference's op_deform_conv.py samples through GridSample with
// align_corners=1, which is this bilinear interpolation in pixel coordinates.
import { type AttrReader, OpError, registerOp } from '../op.js';
import { formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';
import { requireFloat, requireSameDType } from './shape-util.js';

export interface DeformGeometry {
  readonly kernelShape: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly group: number;
  readonly offsetGroup: number;
  readonly out: readonly [number, number];
}

function pair(attrs: AttrReader, name: string, fill: number, min: number, length = 2): number[] {
  const v = attrs.optInts(name) ?? new Array<number>(length).fill(fill);
  if (v.length !== length || v.some((e) => e < min)) throw new OpError(`DeformConv: ${name} must have ${length} entries >= ${min}, got [${v.join(',')}]`);
  return [...v];
}

/** Shapes and attributes checked together; spatial dims and channel counts must be static. */
export function deformGeometry(inputs: readonly (TensorType | undefined)[], attrs: AttrReader): DeformGeometry {
  const [x, w, offset, bias, mask] = checkInputs('DeformConv', inputs, 3, 5) as [TensorType, TensorType, TensorType, TensorType?, TensorType?];
  for (const [t, name] of [[x, 'X'], [w, 'W'], [offset, 'offset'], [bias, 'B'], [mask, 'mask']] as const) {
    if (!t) continue;
    requireFloat('DeformConv', t, name);
    requireSameDType('DeformConv', x, 'X', t, name);
  }
  if (x.shape.length !== 4) throw new OpError(`DeformConv: kiln supports 2-D DeformConv, X must be [N, C, H, W], got ${formatShape(x.shape)}`);
  const [, c, h, wd] = x.shape;
  const [oc, cg, kh, kw] = w.shape;
  if (w.shape.length !== 4 || [c, h, wd, oc, cg, kh, kw].some((d) => typeof d !== 'number'))
    throw new OpError(`DeformConv needs static channels, spatial dims and W: X ${formatShape(x.shape)}, W ${formatShape(w.shape)}`);
  const kernel = attrs.optInts('kernel_shape') ?? [kh as number, kw as number];
  if (kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw) throw new OpError(`DeformConv: kernel_shape [${kernel.join(',')}] must match W ${formatShape(w.shape)}`);
  const group = attrs.int('group');
  const offsetGroup = attrs.int('offset_group');
  if (group < 1 || (c as number) !== (cg as number) * group || (oc as number) % group !== 0)
    throw new OpError(`DeformConv: X has ${c} channels and W ${formatShape(w.shape)}; with group ${group} W must be [M, C/group, kH, kW] with M divisible by group`);
  if (offsetGroup < 1 || (c as number) % offsetGroup !== 0) throw new OpError(`DeformConv: offset_group ${offsetGroup} must divide the ${c} input channels`);
  const strides = pair(attrs, 'strides', 1, 1);
  const dilations = pair(attrs, 'dilations', 1, 1);
  const pads = pair(attrs, 'pads', 0, 0, 4);
  const out = [h as number, wd as number].map((size, d) => Math.floor((size + pads[d]! + pads[d + 2]! - ((kernel[d]! - 1) * dilations[d]! + 1)) / strides[d]!) + 1);
  if (out.some((o) => o < 1)) throw new OpError(`DeformConv: the kernel does not fit X ${formatShape(x.shape)} with pads [${pads.join(',')}]`);
  const taps = kernel[0]! * kernel[1]!;
  const expect = (t: TensorType | undefined, name: string, ch: number): void => {
    if (t && (t.shape.length !== 4 || t.shape[1] !== ch || t.shape[2] !== out[0] || t.shape[3] !== out[1] || (typeof t.shape[0] === typeof x.shape[0] && t.shape[0] !== x.shape[0])))
      throw new OpError(`DeformConv: ${name} must be [N, ${ch}, ${out[0]}, ${out[1]}], got ${formatShape(t.shape)}`);
  };
  expect(offset, 'offset', offsetGroup * taps * 2);
  expect(mask, 'mask', offsetGroup * taps);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== oc)) throw new OpError(`DeformConv: B must be [${oc}], got ${formatShape(bias.shape)}`);
  return {
    kernelShape: [kernel[0]!, kernel[1]!],
    strides: [strides[0]!, strides[1]!],
    dilations: [dilations[0]!, dilations[1]!],
    pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!],
    group,
    offsetGroup,
    out: [out[0]!, out[1]!],
  };
}

/** Bilinear sample of plane `data[base ..]` (h x w) at (y, x), zero outside. */
export function bilinearZero(data: Float64Array, base: number, h: number, w: number, y: number, x: number): number {
  const [y0, x0] = [Math.floor(y), Math.floor(x)];
  const [ly, lx] = [y - y0, x - x0];
  let s = 0;
  for (const [dy, wy] of [[0, 1 - ly], [1, ly]] as const)
    for (const [dx, wx] of [[0, 1 - lx], [1, lx]] as const) {
      const [yy, xx] = [y0 + dy, x0 + dx];
      if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += wy * wx * data[base + yy * w + xx]!;
    }
  return s;
}

registerOp({
  name: 'DeformConv',
  inputs: { min: 3, max: 5 },
  outputs: 1,
  attrs: {
    dilations: { kind: 'ints' },
    group: { kind: 'int', default: 1 },
    kernel_shape: { kind: 'ints' },
    offset_group: { kind: 'int', default: 1 },
    pads: { kind: 'ints' },
    strides: { kind: 'ints' },
  },
  infer(inputs, attrs) {
    const g = deformGeometry(inputs, attrs);
    return [tensorType(inputs[0]!.dtype, [inputs[0]!.shape[0]!, inputs[1]!.shape[0]!, ...g.out])];
  },
  reference(inputs, attrs, outTypes) {
    const [x, w, offset, bias, mask] = inputs as [Tensor, Tensor, Tensor, Tensor?, Tensor?];
    const g = deformGeometry(inputs.map((t) => t && tensorType(t.dtype, t.shape)), attrs);
    const outShape = staticShape(outTypes[0]!);
    const [batch, oc, oh, ow] = outShape as [number, number, number, number];
    const [c, h, wd] = x.shape.slice(1) as [number, number, number];
    const [kh, kw] = g.kernelShape;
    const [cg, ocg, cog] = [c / g.group, oc / g.group, c / g.offsetGroup];
    const out = new Float64Array(numel(outShape));
    for (let n = 0; n < batch; n++)
      for (let o = 0; o < oc; o++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            let acc = bias ? bias.data[o]! : 0;
            for (let ci = 0; ci < cg; ci++) {
              const ic = Math.floor(o / ocg) * cg + ci;
              const og = Math.floor(ic / cog);
              for (let a = 0; a < kh; a++)
                for (let b = 0; b < kw; b++) {
                  const tap = (og * kh + a) * kw + b;
                  const at = (ch: number): number => ((n * offset.shape[1]! + ch) * oh + i) * ow + j;
                  const y = i * g.strides[0] - g.pads[0] + a * g.dilations[0] + offset.data[at(2 * tap)]!;
                  const xx = j * g.strides[1] - g.pads[1] + b * g.dilations[1] + offset.data[at(2 * tap + 1)]!;
                  const m = mask ? mask.data[((n * mask.shape[1]! + tap) * oh + i) * ow + j]! : 1;
                  acc += w.data[((o * cg + ci) * kh + a) * kw + b]! * m * bilinearZero(x.data, (n * c + ic) * h * wd, h, wd, y, xx);
                }
            }
            out[((n * oc + o) * oh + i) * ow + j] = acc;
          }
    return [makeTensor(x.dtype, outShape, out)];
  },
});
