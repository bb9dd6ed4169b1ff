// `npm pack` / `npm publish` run this first (the "prepack" script), then "prepare" builds dist/. tsc never deletes
// what it emitted for a source file that has since been renamed or removed, so a long-lived checkout's dist/
// collects orphans that would ship in the tarball. This removes each dist/ output (.js, .d.ts, .js.map) whose
// source .ts is gone, and folders left empty; the runtime bundle (made by scripts/bundle-runtime.mjs) stays.
// Outputs of existing sources are left alone, so a build or test running beside it is not disturbed.
import { existsSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
/** The source folders tsconfig.build.json compiles into dist/. */
const SOURCE_DIRS = ['ir', 'passes', 'compiler', 'runtime'];
/** dist/ files made by something other than tsc. */
const KEEP = new Set(['runtime/runtime.bundle.js']);
const OUTPUT = /\.(d\.ts|js\.map|js)$/;

let removed = 0;

/** Prunes the folder dist/<rel>; returns whether it is now empty. */
function prune(rel) {
  const dir = join(DIST, rel);
  let left = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(rel, entry.name);
    if (entry.isDirectory()) {
      if (prune(path)) rmdirSync(join(DIST, path));
      else left++;
    } else if (!KEEP.has(path) && OUTPUT.test(entry.name) && !existsSync(join(ROOT, path.replace(OUTPUT, '.ts')))) {
      rmSync(join(DIST, path));
      removed++;
    } else left++;
  }
  return left === 0;
}

for (const dir of SOURCE_DIRS) if (existsSync(join(DIST, dir))) prune(dir);
console.log(`prune-dist: removed ${removed} stale file(s) from dist/`);
