#!/usr/bin/env node
// The kiln CLI. The TypeScript sources are compiled to dist/ by `npm install` (prepare) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/compiler/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('kiln: the compiler is not built yet. Run `npm run build` (or `npm install`) in the kiln folder first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
