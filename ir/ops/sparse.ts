// SparseMatMul: y = x . A^T + bias with the weight A[m,k] (a PyTorch Linear weight) given as a Tiled-CSL
// encoding (ir/formats/tiled-csl-layout.ts): items and offsets are u32 constants, the tile parameters are
// attributes. The reference decodes A exactly as stored and computes in float64, rounding once to x's dtype,
// so every WGSL variant is checked against the same values the kernels read. `variant` and `split_k` only steer
// kernel selection ('direct' binary-searches rows, 'scatter' expands tiles in workgroup memory; split_k 0 lets
// the compiler choose) and do not change the result.
import { OpError, type AttrReader, registerOp } from '../op.js';
import { formatShape, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import {
  TILED_CSL_VECTOR,
  type TiledCslParams,
  decodeTiledCslRowBlock,
  tiledCslFromBuffers,
  tiledCslGrid,
  tiledCslParamProblems,
  tiledCslStructureProblems,
  tiledCslWordsPerEntry,
} from '../formats/tiled-csl.js';
import { checkInputs, staticShape } from './common.js';

const OP = 'SparseMatMul';
export const SPARSE_MATMUL_VARIANTS = ['auto', 'direct', 'scatter'] as const;

/** The encoded matrix's size and tile parameters from the attributes, validated. */
interface SparseWeight {
  readonly m: number;
  readonly k: number;
  readonly params: TiledCslParams;
}

function readSparseWeight(attrs: AttrReader): SparseWeight {
  const m = attrs.int('m');
  const k = attrs.int('k');
  const params = { tileM: attrs.int('tile_m'), tileK: attrs.int('tile_k'), values: attrs.string('values') as TiledCslParams['values'] };
  // Name the problems after the attributes, not the TS fields.
  const problems = tiledCslParamProblems(m, k, params).map((p) => p.replace(/tileM/g, 'tile_m').replace(/tileK/g, 'tile_k'));
  if (problems.length) throw new OpError(`${OP}: ${problems.join('; ')}`);
  return { m, k, params };
}

function checkKernelHints(attrs: AttrReader): void {
  const variant = attrs.string('variant');
  if (!(SPARSE_MATMUL_VARIANTS as readonly string[]).includes(variant))
    throw new OpError(`${OP}: variant must be one of ${SPARSE_MATMUL_VARIANTS.join(', ')}, got '${variant}'`);
  const splitK = attrs.int('split_k');
  if (splitK < 0) throw new OpError(`${OP}: split_k must be >= 0 (0 lets the compiler choose), got ${splitK}`);
}

/** A static 1-D u32 operand's length. */
function u32VectorLength(t: TensorType, name: string): number {
  if (t.dtype !== 'u32' || t.shape.length !== 1) throw new OpError(`${OP}: ${name} must be a 1-D u32 tensor, got ${t.dtype}${formatShape(t.shape)}`);
  const len = t.shape[0]!;
  if (typeof len !== 'number') throw new OpError(`${OP} needs static shape: ${name} is ${formatShape(t.shape)}`);
  return len;
}

registerOp({
  name: OP,
  inputs: { min: 3, max: 4 },
  outputs: 1,
  attrs: {
    m: { kind: 'int', required: true },
    k: { kind: 'int', required: true },
    tile_m: { kind: 'int', required: true },
    tile_k: { kind: 'int', required: true },
    values: { kind: 'string', required: true },
    variant: { kind: 'string', default: 'auto' },
    split_k: { kind: 'int', default: 0 },
  },
  infer(inputs, attrs) {
    const [x, items, offsets, bias] = checkInputs(OP, inputs, 3, 4) as [TensorType, TensorType, TensorType, TensorType | undefined];
    const { m, k, params } = readSparseWeight(attrs);
    checkKernelHints(attrs);
    if (x.dtype !== 'f32' && x.dtype !== 'f16') throw new OpError(`${OP}: x must be f32 or f16, got ${x.dtype}`);
    if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== k)
      throw new OpError(`${OP}: x's last dim must be k = ${k}, got x ${formatShape(x.shape)}`);
    const { tiles } = tiledCslGrid(m, k, params);
    const offsetCount = u32VectorLength(offsets, 'offsets');
    if (offsetCount !== tiles + 2)
      throw new OpError(`${OP}: offsets must have tiles + 2 = ${tiles + 2} elements for a ${m}x${k} matrix in ${params.tileM}x${params.tileK} tiles, got ${offsetCount}`);
    // Every tile holds a multiple of 4 entries, so items is a whole number of 4-entry vectors.
    const vectorWords = TILED_CSL_VECTOR * tiledCslWordsPerEntry(params.values);
    const itemCount = u32VectorLength(items, 'items');
    if (itemCount % vectorWords !== 0)
      throw new OpError(`${OP}: items must be a whole number of ${TILED_CSL_VECTOR}-entry vectors (${vectorWords} words with ${params.values} values), got ${itemCount} words`);
    if (bias) {
      if (bias.shape.length !== 1 || bias.shape[0] !== m) throw new OpError(`${OP}: bias must be [${m}], got ${formatShape(bias.shape)}`);
      if (bias.dtype !== x.dtype) throw new OpError(`${OP}: bias must have x's dtype ${x.dtype}, got ${bias.dtype}`);
    }
    return [tensorType(x.dtype, [...x.shape.slice(0, -1), m])];
  },
  reference(inputs, attrs, outTypes) {
    const [x, items, offsets, bias] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    const { m, k, params } = readSparseWeight(attrs);
    const csl = tiledCslFromBuffers(m, k, params, Uint32Array.from(items.data), Uint32Array.from(offsets.data));
    const problems = tiledCslStructureProblems(csl);
    if (problems.length) throw new OpError(`${OP}: the encoded weight is malformed: ${problems.join('; ')}`);
    const outShape = staticShape(outTypes[0]!);
    const batch = numel(x.shape.slice(0, -1));
    const y = new Float64Array(batch * m);
    // One row block of A at a time: a band of tileM dense rows is small even for an LLM-sized weight. Summing
    // over k in order makes each output exactly the dense x . A^T a direct computation gives.
    const band = new Float64Array(params.tileM * k);
    const { tileRows } = tiledCslGrid(m, k, params);
    for (let i = 0; i < tileRows; i++) {
      band.fill(0);
      decodeTiledCslRowBlock(csl, i, band);
      const firstRow = i * params.tileM;
      const rows = Math.min(params.tileM, m - firstRow);
      for (let b = 0; b < batch; b++)
        for (let lr = 0; lr < rows; lr++) {
          let acc = 0;
          for (let c = 0; c < k; c++) acc += x.data[b * k + c]! * band[lr * k + c]!;
          y[b * m + firstRow + lr] = acc + (bias ? bias.data[firstRow + lr]! : 0);
        }
    }
    return [makeTensor(x.dtype, outShape, y)];
  },
});
