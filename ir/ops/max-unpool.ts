// MaxUnpool (ONNX 9/11/22): the partial inverse of MaxPool. Every element of X goes to the flat position its
// index names, everything else is 0. As in onnx/reference's op_max_unpool.py (which produced the conformance
// data), indices address the default-sized result [N, C, (in - 1) * stride - pad_begin - pad_end + kernel ...],
// and a larger output_shape (the importer's constant input) pads that result at the end of each spatial dim.
// When two elements name one position the reference keeps the later; the GPU keeps either, so the two agree
// when such elements are equal (as MaxPool's indices of overlapping windows are).
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, formatShape, numel, strides } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs, staticShape } from './common.js';
import { requireFloat } from './shape-util.js';

/** The spatial sizes the indices address: (in - 1) * stride - pads + kernel per spatial dim. */
export function unpooledSize(op: string, spatial: readonly number[], attrs: AttrReader): number[] {
  const n = spatial.length;
  const kernel = attrs.ints('kernel_shape');
  const pads = attrs.optInts('pads') ?? new Array<number>(2 * n).fill(0);
  const stride = attrs.optInts('strides') ?? new Array<number>(n).fill(1);
  if (kernel.length !== n || kernel.some((k) => k < 1)) throw new OpError(`${op}: kernel_shape must have ${n} entries >= 1, got [${kernel.join(',')}]`);
  if (pads.length !== 2 * n || pads.some((p) => p < 0)) throw new OpError(`${op}: pads must have ${2 * n} entries >= 0, got [${pads.join(',')}]`);
  if (stride.length !== n || stride.some((s) => s < 1)) throw new OpError(`${op}: strides must have ${n} entries >= 1, got [${stride.join(',')}]`);
  return spatial.map((s, d) => {
    const size = (s - 1) * stride[d]! - pads[d]! - pads[d + n]! + kernel[d]!;
    if (size < 1) throw new OpError(`${op}: spatial dim ${d} of size ${s} unpools to ${size}; check kernel_shape, strides and pads`);
    return size;
  });
}

function check(inputs: readonly (TensorType | undefined)[], attrs: AttrReader): { x: TensorType; inferred: Dim[]; out: Dim[] } {
  const [x, idx] = checkInputs('MaxUnpool', inputs, 2) as [TensorType, TensorType];
  requireFloat('MaxUnpool', x, 'X');
  if (idx.dtype !== 'i32' && idx.dtype !== 'i64') throw new OpError(`MaxUnpool: I must be i32 or i64, got ${idx.dtype}`);
  if (x.shape.length < 3) throw new OpError(`MaxUnpool: X must be [N, C, ...spatial], got ${formatShape(x.shape)}`);
  if (formatShape(idx.shape) !== formatShape(x.shape)) throw new OpError(`MaxUnpool: I ${formatShape(idx.shape)} must have X's shape ${formatShape(x.shape)}`);
  const spatial = x.shape.slice(2);
  if (spatial.some((d) => typeof d !== 'number')) throw new OpError(`MaxUnpool needs static spatial dims, X is ${formatShape(x.shape)}`);
  const inferred: Dim[] = [x.shape[0]!, x.shape[1]!, ...unpooledSize('MaxUnpool', spatial as number[], attrs)];
  const given = attrs.optInts('output_shape');
  if (!given) return { x, inferred, out: inferred };
  const fits = given.length === inferred.length && given.every((g, d) => (typeof inferred[d] === 'number' ? (d < 2 ? g === inferred[d] : g >= (inferred[d] as number)) : true));
  if (!fits) throw new OpError(`MaxUnpool: output_shape [${given.join(',')}] must keep N and C and be at least the unpooled shape ${formatShape(inferred)}`);
  return { x, inferred, out: [inferred[0]!, inferred[1]!, ...given.slice(2)] };
}

registerOp({
  name: 'MaxUnpool',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: { kernel_shape: { kind: 'ints', required: true }, pads: { kind: 'ints' }, strides: { kind: 'ints' }, output_shape: { kind: 'ints' } },
  infer(inputs, attrs) {
    const { x, out } = check(inputs, attrs);
    return [tensorType(x.dtype, out)];
  },
  reference(inputs, attrs, outTypes) {
    const [x, idx] = inputs as [Tensor, Tensor];
    const inferred = check([tensorType(x.dtype, x.shape), tensorType(idx.dtype, idx.shape)], attrs).inferred as number[];
    const outShape = staticShape(outTypes[0]!);
    const total = numel(inferred);
    const [inStrides, outStrides] = [strides(inferred), strides(outShape)];
    const out = new Float64Array(numel(outShape));
    idx.data.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= total) throw new OpError(`MaxUnpool: index ${i} at position ${k} is outside the unpooled ${formatShape(inferred)} (0..${total - 1})`);
      // The same coordinates in the (possibly larger) output.
      let at = 0;
      for (let d = 0; d < inferred.length; d++) at += (Math.floor(i / inStrides[d]!) % inferred[d]!) * outStrides[d]!;
      out[at] = x.data[k]!;
    });
    return [makeTensor(x.dtype, outShape, out)];
  },
});
