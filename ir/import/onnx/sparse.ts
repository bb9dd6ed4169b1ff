// SparseTensorProto (sparse initializers, Constant's sparse_value) densified: kiln's graph constants are dense,
// and a sparsity pass can rediscover the zeros. Indices are either linear [NNZ] or coordinates [NNZ, rank].
import { type Tensor, makeTensor } from '../../tensor.js';
import { invalid } from './errors.js';
import type { ExternalDataReader } from './external-data.js';
import type { SparseTensorProto } from './proto.js';
import { checkedNumel, decodeTensorValues, tensorFromProto } from './tensor-proto.js';

export function decodeSparse(sp: SparseTensorProto, what: string, external?: ExternalDataReader): Tensor {
  if (!sp.values || !sp.indices) return invalid(`${what}: sparse tensor needs values and indices`);
  const values = tensorFromProto(sp.values, `${what} values`, external);
  const indices = decodeTensorValues(sp.indices, `${what} indices`, external);
  const dims = sp.dims;
  const n = checkedNumel(dims, what);
  const nnz = values.data.length;
  const coords = indices.dims.length === 2;
  if (indices.values.length !== (coords ? nnz * dims.length : nnz))
    return invalid(`${what}: ${indices.values.length} indices for ${nnz} values of a rank-${dims.length} tensor`);
  const data = new Float64Array(n);
  for (let k = 0; k < nnz; k++) {
    let at = 0;
    if (coords) for (let a = 0; a < dims.length; a++) at = at * dims[a]! + indices.values[k * dims.length + a]!;
    else at = indices.values[k]!;
    if (!(at >= 0 && at < n)) return invalid(`${what}: index ${at} of value ${k} is outside [${dims.join(',')}]`);
    data[at] = values.data[k]!;
  }
  return makeTensor(values.dtype, dims, data);
}
