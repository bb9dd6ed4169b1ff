// Write an artifact folder so that nothing can be lost. The whole artifact (manifest.json last) is first written into
// a staging folder beside the target, so a compile that fails or is killed while writing leaves the previous artifact
// as it was. Only then is it moved into place: a new folder is one rename; into an existing folder (empty, or an
// earlier artifact, see output-dir.ts) each file is renamed over its old version, after a transitional manifest has
// claimed every path involved, so an interruption there still leaves a folder that kiln recognises (and the
// runtime's hash check refuses until the next compile), never stray files it would then refuse to touch. Files the
// old manifest listed that the new artifact lacks are removed; nothing else in the folder is ever looked at.
// Weights pages are streamed chunk by chunk, so writing a multi-gigabyte artifact needs little memory.
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Artifact } from '../compile.js';
import { isLazy, type ArtifactFile } from '../memory/lazy-file.js';
import { onPath, systemError } from '../io/fs-errors.js';
import { type OutputFolder, OutputFolderError, inspectOutputFolder } from './output-dir.js';

/** Marks a staging folder as kiln's (with the pid that writes it), so a later compile may remove it if abandoned. */
const MARKER = '.kiln-staging';

const markerText = (target: string, pid: number): string => `kiln staging folder for ${target}, pid ${pid}\n`;

const json = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;

/** Write one file; `wrote` is told the bytes of each piece written (a weights page's chunks, or the whole file). */
function writeFile(path: string, file: ArtifactFile | string, wrote?: (bytes: number) => void): void {
  onPath(path, 'write', () => {
    mkdirSync(dirname(path), { recursive: true });
    if (typeof file === 'string' || !isLazy(file)) {
      writeFileSync(path, file);
      return wrote?.(typeof file === 'string' ? Buffer.byteLength(file) : file.byteLength);
    }
    const fd = openSync(path, 'w');
    try {
      for (const chunk of file.chunks()) {
        for (let done = 0; done < chunk.byteLength; ) done += writeSync(fd, chunk, done, chunk.byteLength - done);
        wrote?.(chunk.byteLength);
      }
    } finally {
      closeSync(fd);
    }
  });
}

/** Staging folders a killed compile left for this target (their writer is gone): kiln's own, so removed. */
function removeAbandoned(where: string, prefix: string, target: string): void {
  let names: string[];
  try {
    names = readdirSync(where).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(where, name);
    let marker: string;
    try {
      marker = readFileSync(join(dir, MARKER), 'utf8');
    } catch {
      continue; // no marker: not provably kiln's
    }
    // Only a marker naming this very target, written by a process that is gone, makes the folder provably ours.
    const m = /^kiln staging folder for (.*), pid (\d+)\n$/s.exec(marker);
    const pid = Number(m?.[2]);
    if (m?.[1] === target && pid !== process.pid && !alive(pid)) rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A fresh staging folder on the target's file system (so the final moves are renames), marked as kiln's. */
function stagingFolder(target: OutputFolder): string {
  const parent = dirname(target.path);
  onPath(parent, 'create', () => mkdirSync(parent, { recursive: true }));
  // A target that is a mount point has another file system than its parent: stage inside it instead.
  const inside = target.kind === 'existing' && statSync(parent).dev !== statSync(target.path).dev;
  const where = inside ? target.path : parent;
  const prefix = inside ? '.kiln-staging-' : `.${basename(target.path)}.kiln-staging-`;
  removeAbandoned(where, prefix, target.path);
  const dir = onPath(where, 'create a staging folder in', () => mkdtempSync(join(where, prefix)));
  writeFile(join(dir, MARKER), markerText(target.path, process.pid));
  return dir;
}

/** Every path the new artifact writes must be free, or a file kiln owns there (never a user's). */
function checkCollisions(target: Extract<OutputFolder, { kind: 'existing' }>, paths: readonly string[]): void {
  const owned = new Set(target.owned);
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      let st;
      try {
        st = lstatSync(join(target.path, rel));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        throw systemError(e, join(target.path, rel), 'inspect');
      }
      const isLast = i === parts.length;
      if (isLast ? !owned.has(rel) || st.isDirectory() : !st.isDirectory())
        throw new OutputFolderError(`${join(target.path, rel)} is in the way of the artifact's ${p} and is not a file kiln wrote there; move it away or choose another -o`);
    }
  }
}

export interface WriteOptions {
  /** Told the bytes written so far of the artifact's total (its files and manifest.json), first with done 0. */
  readonly onProgress?: (done: number, total: number) => void;
}

export function writeArtifact(dir: string, a: Artifact, opts: WriteOptions = {}): void {
  const target = inspectOutputFolder(dir);
  const paths = [...a.files.keys()];
  if (target.kind === 'existing') checkCollisions(target, paths);
  const staging = stagingFolder(target);
  try {
    const manifest = json(a.manifest);
    const total = [...a.files.values()].reduce((n, f) => n + (isLazy(f) ? f.bytes : f.byteLength), Buffer.byteLength(manifest));
    let done = 0;
    const wrote = opts.onProgress && ((bytes: number) => opts.onProgress!((done += bytes), total));
    opts.onProgress?.(0, total);
    for (const [path, file] of a.files) writeFile(join(staging, path), file, wrote);
    writeFile(join(staging, 'manifest.json'), manifest, wrote);
    if (target.kind === 'new') {
      // The whole folder becomes the artifact: the marker must not go with it.
      onPath(join(staging, MARKER), 'remove', () => unlinkSync(join(staging, MARKER)));
      onPath(target.path, 'create', () => renameSync(staging, target.path));
    } else install(staging, target, a, paths); // the marker stays until the folder is removed below
  } finally {
    // The staging folder is kiln's own (made by mkdtemp above); after a successful install it is gone or empty.
    rmSync(staging, { recursive: true, force: true });
  }
}

function install(staging: string, target: Extract<OutputFolder, { kind: 'existing' }>, a: Artifact, paths: readonly string[]): void {
  const owned = new Set(target.owned);
  const move = (rel: string): void => {
    const to = join(target.path, rel);
    onPath(to, 'write', () => {
      mkdirSync(dirname(to), { recursive: true });
      renameSync(join(staging, rel), to);
    });
  };
  // Claim the new paths first: a manifest listing old and new files (the runtime refuses it: hashes differ).
  if (paths.some((p) => !owned.has(p))) {
    const old = (target.manifest?.files ?? {}) as Record<string, unknown>;
    writeFile(join(staging, '.claim.json'), json({ ...a.manifest, files: { ...old, ...a.manifest.files } }));
    onPath(join(target.path, 'manifest.json'), 'write', () => renameSync(join(staging, '.claim.json'), join(target.path, 'manifest.json')));
  }
  for (const p of paths) move(p);
  move('manifest.json');
  // Files of the old artifact the new one lacks, then the folders they leave empty (deepest first).
  const fresh = new Set(['manifest.json', ...paths]);
  const stale = target.owned.filter((p) => !fresh.has(p));
  for (const p of stale)
    try {
      unlinkSync(join(target.path, p));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw systemError(e, join(target.path, p), 'remove');
    }
  const folders = [...new Set(stale.flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))))];
  for (const f of folders.sort((x, y) => y.length - x.length))
    try {
      rmdirSync(join(target.path, f));
    } catch {
      // not empty (a user's file, or the new artifact's) or already gone: left as is
    }
}
