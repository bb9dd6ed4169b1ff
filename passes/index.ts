export * from './pass.js';
export * from './manager.js';
export * from './registry.js';
export * from './pipelines.js';
export { inferShapes } from './infer-shapes.js';
export { foldConstants } from './fold-constants.js';
export { eliminateDead, liveValues } from './eliminate-dead.js';
export { sparsify, pruneSmallest, SparsifyError, type SparsifyOptions } from './sparsify.js';
export { matmulWeights, type MatmulWeight, type WeightUse } from './matmul-weights.js';
