export * from './pass.js';
export * from './manager.js';
export * from './registry.js';
export * from './pipelines.js';
export { inferShapes } from './infer-shapes.js';
export { foldConstants } from './fold-constants.js';
export { eliminateDead, liveValues } from './eliminate-dead.js';
