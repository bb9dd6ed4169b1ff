// The one set of esbuild options for the runtime bundle (runtime.js in every artifact): scripts/bundle-runtime.mjs
// builds dist/runtime/runtime.bundle.js with them, and test/runtime/bundle-budget.test.ts builds the same bundle
// in memory to hold it to its size budget. Minified, with no source paths or timestamps in it, so the same
// sources always give the same bytes.
import { fileURLToPath } from 'node:url';

/** The repository root: entry points and outputs resolve against it whatever the working directory. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** @type {import('esbuild').BuildOptions} */
export const RUNTIME_BUNDLE_OPTIONS = Object.freeze({
  absWorkingDir: REPO_ROOT,
  entryPoints: ['runtime/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

/** The most bytes the minified bundle may take. */
export const RUNTIME_BUNDLE_BUDGET = 29 * 1024;
