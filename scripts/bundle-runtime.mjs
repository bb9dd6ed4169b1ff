// Bundle runtime/ into the single dependency-free ES module that every artifact ships as runtime.js.
// Minified, with no source paths or timestamps in it, so the same sources always give the same bytes.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';

mkdirSync('dist/runtime', { recursive: true });
const result = await build({
  entryPoints: ['runtime/index.ts'],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  outfile: 'dist/runtime/runtime.bundle.js',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs)[0].bytes;
console.log(`runtime bundle: ${bytes} bytes (dist/runtime/runtime.bundle.js)`);
