// Bundle runtime/ into the single dependency-free ES module that every artifact ships as runtime.js, with the
// options in lib/runtime-bundle-options.mjs (shared with the size-budget test).
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, RUNTIME_BUNDLE_BUDGET, RUNTIME_BUNDLE_OPTIONS } from './lib/runtime-bundle-options.mjs';

mkdirSync(join(REPO_ROOT, 'dist/runtime'), { recursive: true });
const result = await build({ ...RUNTIME_BUNDLE_OPTIONS, outfile: 'dist/runtime/runtime.bundle.js', metafile: true });
const bytes = Object.values(result.metafile.outputs)[0].bytes;
console.log(`runtime bundle: ${bytes} bytes of a ${RUNTIME_BUNDLE_BUDGET}-byte budget (dist/runtime/runtime.bundle.js)`);
