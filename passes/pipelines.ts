// Named pipelines: flat, ordered lists with the reason for each step.
import { eliminateDead } from './eliminate-dead.js';
import { foldConstants } from './fold-constants.js';
import { inferShapes } from './infer-shapes.js';
import type { Pass } from './pass.js';

export const DEFAULT_PIPELINE: readonly Pass[] = [
  // Parsed or imported graphs may lack result types; everything after needs them.
  inferShapes,
  // Shape arithmetic and weight preprocessing subgraphs collapse into constants before any kernel is planned.
  foldConstants,
  // Folding leaves the constants' former producers and inputs unused; drop them so no kernel is emitted for them.
  eliminateDead,
];
