// Every pass by name: the CLI's --passes and --dump-ir-after values are these names.
import { arrangeLayout } from './arrange-layout.js';
import { fitSymbolBoundsPass } from './fit-symbol-bounds.js';
import { controlFlow } from './control-flow.js';
import { eliminateDead } from './eliminate-dead.js';
import { encodeSparseWeights } from './encode-sparse-weights.js';
import { foldConstants } from './fold-constants.js';
import { inferShapes } from './infer-shapes.js';
import { PassError } from './manager.js';
import { materializeEncodings } from './materialize-encodings.js';
import type { Pass } from './pass.js';
import { sparsify } from './sparsify.js';
import { splitOversized } from './split-oversized-weights.js';
import { storeWeightsF16 } from './store-weights-f16.js';
import { bitpack } from './bitpack.js';
import { pruneStructured } from './prune-structured.js';

const PASSES: readonly Pass<any>[] = [inferShapes, foldConstants, controlFlow, eliminateDead, pruneStructured, sparsify, bitpack, splitOversized, encodeSparseWeights, storeWeightsF16, arrangeLayout, materializeEncodings, fitSymbolBoundsPass];

export const passNames = (): string[] => PASSES.map((p) => p.name);

export function lookupPass(name: string): Pass<any> | undefined {
  return PASSES.find((p) => p.name === name);
}

/** Resolve a comma-separated list; throws naming the unknown pass and listing the known ones. */
export function resolvePasses(names: readonly string[]): Pass<any>[] {
  return names.map((n) => {
    const p = lookupPass(n);
    if (!p) throw new PassError(`unknown pass '${n}' (known passes: ${passNames().join(', ')})`);
    return p;
  });
}
