// Write an artifact directory: manifest.json plus every file it hashes. Stale files from an earlier compile into
// the same directory are removed so the directory is exactly the artifact.
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Artifact } from '../compile.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

export function writeArtifact(dir: string, a: Artifact): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  mkdirSync(dir, { recursive: true });
  const keep = new Set(['manifest.json', ...a.files.keys()]);
  if (existsSync(join(dir, 'manifest.json')))
    for (const f of listFiles(dir)) if (!keep.has(relative(dir, f).split('\\').join('/'))) rmSync(f);
  for (const [path, bytes] of a.files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(a.manifest, null, 1)}\n`);
}
