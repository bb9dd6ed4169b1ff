// Write an artifact directory: manifest.json plus every file it hashes. Stale files from an earlier compile into
// the same directory are removed so the directory is exactly the artifact. Lazy files (weights pages) are
// streamed chunk by chunk, so writing a multi-gigabyte artifact needs little memory.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Artifact } from '../compile.js';
import { isLazy } from '../memory/lazy-file.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

export function writeArtifact(dir: string, a: Artifact): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
  mkdirSync(dir, { recursive: true });
  const keep = new Set(['manifest.json', ...a.files.keys()]);
  if (existsSync(join(dir, 'manifest.json')))
    for (const f of listFiles(dir)) if (!keep.has(relative(dir, f).split('\\').join('/'))) rmSync(f);
  for (const [path, file] of a.files) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if (!isLazy(file)) {
      writeFileSync(target, file);
      continue;
    }
    const fd = openSync(target, 'w');
    try {
      for (const chunk of file.chunks()) for (let done = 0; done < chunk.byteLength; ) done += writeSync(fd, chunk, done, chunk.byteLength - done);
    } finally {
      closeSync(fd);
    }
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(a.manifest, null, 1)}\n`);
}
