// Matrix products. MatMul follows numpy/ONNX: a 1-D A is read as a row [1,K] and a 1-D B as a column [K,1]
// (the added dim is dropped from the result), and leading batch dims broadcast. Gemm is the 2-D
// Y = alpha * op(A) @ op(B) + beta * C of ONNX, with C broadcast one way to [M,N].
import { type AttrReader, OpError, registerOp } from '../op.js';
import { type Dim, broadcastShapes, formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, checkBroadcastsTo, checkInputs, flagAttr, staticShape } from './common.js';
import { requireFloat, requireSameDType, typeOfTensor } from './shape-util.js';

/** The operands of a batched product viewed as [...batch, M, K] @ [...batch, K, N]. */
interface MatMulView<D> {
  readonly aBatch: readonly D[];
  readonly bBatch: readonly D[];
  readonly m: D;
  readonly k: D;
  readonly n: D;
  readonly outBatch: readonly D[];
  /** Result shape with the dims added for 1-D operands removed again. */
  readonly outShape: readonly D[];
}

function matmulView(a: readonly Dim[], b: readonly Dim[]): MatMulView<Dim> {
  if (a.length === 0 || b.length === 0)
    throw new OpError(`MatMul: operands must have rank >= 1, got ${formatShape(a)} x ${formatShape(b)}`);
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const k = a2[a2.length - 1]!;
  if (k !== b2[b2.length - 2]) throw new OpError(`MatMul: inner dimensions differ: ${formatShape(a)} x ${formatShape(b)}`);
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const outBatch = broadcastShapes([aBatch, bBatch]);
  if (typeof outBatch === 'string') throw new OpError(`MatMul: batch dims of ${formatShape(a)} x ${formatShape(b)}: ${outBatch}`);
  const m = a2[a2.length - 2]!;
  const n = b2[b2.length - 1]!;
  const outShape = [...outBatch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { aBatch, bBatch, m, k, n, outBatch, outShape };
}

registerOp({
  name: 'MatMul',
  inputs: { min: 2, max: 2 },
  outputs: 1,
  attrs: {},
  infer(inputs) {
    const [a, b] = checkInputs('MatMul', inputs, 2) as [TensorType, TensorType];
    requireFloat('MatMul', a, 'A');
    requireFloat('MatMul', b, 'B');
    requireSameDType('MatMul', a, 'A', b, 'B');
    return [tensorType(a.dtype, matmulView(a.shape, b.shape).outShape)];
  },
  reference(inputs, _attrs, outTypes) {
    const [a, b] = inputs as [Tensor, Tensor];
    const v = matmulView(a.shape, b.shape) as MatMulView<number>;
    const { m, k, n } = v;
    const aBatches = broadcastOffsets(v.aBatch, v.outBatch);
    const bBatches = broadcastOffsets(v.bBatch, v.outBatch);
    const out = new Float64Array(numel(v.outBatch) * m * n);
    for (let batch = 0; batch < aBatches.length; batch++) {
      const aBase = aBatches[batch]! * m * k;
      const bBase = bBatches[batch]! * k * n;
      const oBase = batch * m * n;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += a.data[aBase + i * k + p]! * b.data[bBase + p * n + j]!;
          out[oBase + i * n + j] = acc;
        }
    }
    return [makeTensor(a.dtype, staticShape(outTypes[0]!), out)];
  },
});

/** [M, K, N] of Gemm after applying transA/transB; throws when A or B is not 2-D or K differs. */
function gemmDims(a: TensorType, b: TensorType, attrs: AttrReader): [Dim, Dim, Dim] {
  if (a.shape.length !== 2 || b.shape.length !== 2)
    throw new OpError(`Gemm: A and B must be 2-D, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const transA = flagAttr('Gemm', attrs, 'transA');
  const transB = flagAttr('Gemm', attrs, 'transB');
  const [m, ka] = transA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [kb, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (ka !== kb)
    throw new OpError(
      `Gemm: inner dimensions differ: ${formatShape(a.shape)}${transA ? '^T' : ''} x ${formatShape(b.shape)}${transB ? '^T' : ''}`,
    );
  return [m, ka, n];
}

registerOp({
  name: 'Gemm',
  inputs: { min: 2, max: 3 },
  outputs: 1,
  attrs: {
    alpha: { kind: 'float', default: 1 },
    beta: { kind: 'float', default: 1 },
    transA: { kind: 'int', default: 0 },
    transB: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [a, b, c] = checkInputs('Gemm', inputs, 2, 3) as [TensorType, TensorType, TensorType | undefined];
    requireFloat('Gemm', a, 'A');
    requireSameDType('Gemm', a, 'A', b, 'B');
    const [m, , n] = gemmDims(a, b, attrs);
    if (c) {
      requireSameDType('Gemm', a, 'A', c, 'C');
      // C grows to [M,N] but never grows the result (ONNX's unidirectional broadcast).
      checkBroadcastsTo('Gemm', 'C', c.shape, [m, n]);
    }
    return [tensorType(a.dtype, [m, n])];
  },
  reference(inputs, attrs) {
    const [a, b, c] = inputs as [Tensor, Tensor, Tensor | undefined];
    const [m, k, n] = gemmDims(typeOfTensor(a), typeOfTensor(b), attrs) as number[] as [number, number, number];
    const alpha = attrs.float('alpha');
    const beta = attrs.float('beta');
    // Element (i,p) of op(A) and (p,j) of op(B), whatever the storage order.
    const [aRow, aCol] = flagAttr('Gemm', attrs, 'transA') ? [1, m] : [k, 1];
    const [bRow, bCol] = flagAttr('Gemm', attrs, 'transB') ? [1, k] : [n, 1];
    const cOffsets = c && broadcastOffsets(c.shape, [m, n]);
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a.data[i * aRow + p * aCol]! * b.data[p * bRow + j * bCol]!;
        const bias = c && cOffsets ? c.data[cOffsets[i * n + j]!]! : 0;
        out[i * n + j] = alpha * acc + beta * bias;
      }
    return [makeTensor(a.dtype, [m, n], out)];
  },
});
