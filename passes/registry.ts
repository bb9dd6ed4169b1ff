// Every pass by name: the CLI's --passes and --dump-ir-after values are these names.
import { eliminateDead } from './eliminate-dead.js';
import { foldConstants } from './fold-constants.js';
import { inferShapes } from './infer-shapes.js';
import { PassError } from './manager.js';
import type { Pass } from './pass.js';
import { sparsify } from './sparsify.js';

const PASSES: readonly Pass[] = [inferShapes, foldConstants, eliminateDead, sparsify];

export const passNames = (): string[] => PASSES.map((p) => p.name);

export function lookupPass(name: string): Pass | undefined {
  return PASSES.find((p) => p.name === name);
}

/** Resolve a comma-separated list; throws naming the unknown pass and listing the known ones. */
export function resolvePasses(names: readonly string[]): Pass[] {
  return names.map((n) => {
    const p = lookupPass(n);
    if (!p) throw new PassError(`unknown pass '${n}' (known passes: ${passNames().join(', ')})`);
    return p;
  });
}
