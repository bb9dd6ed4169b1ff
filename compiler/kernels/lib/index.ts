// The kernel library: helpers every kernel generator may use, in one place (kernel files import them from here,
// never from another kernel). Tensor specs and size arithmetic (tensor.ts), u32 index math (index-math.ts),
// reduction views (view.ts), loops (loops.ts), workgroup layout and tree reductions (workgroup.ts), scalar
// conversions between dtypes and compute scalars (convert.ts), IEEE-faithful float ops (float-ops.ts), the decode
// steps' uniform scalars (step-scalars.ts) and the one-invocation-per-storage-word store (store.ts).
export { accDtype, castExpr, computeScalar, fromCompute, toCompute, toF32, wrapToDType } from './convert.js';
export { isnan, mulConstF32, pick } from './float-ops.js';
export { XYZW, dimSignParts, divC, modC, unflatten, unflattenDims } from './index-math.js';
export { dimDivisible, dimMinus, divDim, modDim, mulDim, raggedDim, workgroupFlatDim } from './dim-math.js';
export { clampedIndex, normalizedIndex } from './indices.js';
export { forLoop } from './loops.js';
export { stepLen, stepPos, stepScalar } from './step-scalars.js';
export { storeEachElement } from './store.js';
export { subgroupShareLane, subgroupShared } from './subgroup-share.js';
export { MAX_STORAGE_BINDINGS, type TensorSpec, ceilDiv, pow2ceil, staticTensor, symbolicTensor, vec4FloatInput } from './tensor.js';
export { type Dim, type ReduceView, radixOffset, reduceView } from './view.js';
export { type DimGroup, type ReduceViewDims, radixOffsetDims, reduceViewDims } from './view-dims.js';
export {
  type Combine,
  type LaneCoords,
  type Lanes,
  MAX_WORKGROUP,
  REDUCE_PER_LANE,
  chooseLanes,
  laneCoords,
  laneStep,
  opaque,
  opaqueOne,
  rowSlot,
  workgroupFlat,
  workgroupReduce,
} from './workgroup.js';
