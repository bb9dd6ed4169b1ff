// writeArtifact never destroys what kiln did not write: a folder without a kiln manifest is refused untouched, user
// files beside an artifact survive a recompile, only files the old manifest lists are replaced or removed, and a
// write that fails midway leaves the previous artifact as it was and no staging folder behind.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import type { ArtifactFile } from '../../compiler/memory/lazy-file.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from '../../runtime/plan.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(mkdtempSync(join(root, `case${n++}-`)), 'out');

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A synthetic artifact: these files (path -> text) and a manifest listing them with their hashes. */
function artifact(files: Record<string, string>, lazy?: { path: string; chunks: () => Iterable<Uint8Array>; bytes: number }): Artifact {
  const map = new Map<string, ArtifactFile>(Object.entries(files).map(([p, t]) => [p, utf8(t)]));
  const listed: Record<string, { sha256: string; bytes: number }> = Object.fromEntries(Object.entries(files).map(([p, t]) => [p, { sha256: sha(utf8(t)), bytes: utf8(t).byteLength }]));
  if (lazy) {
    map.set(lazy.path, { bytes: lazy.bytes, sha256: '0'.repeat(64), chunks: lazy.chunks });
    listed[lazy.path] = { sha256: '0'.repeat(64), bytes: lazy.bytes };
  }
  const manifest = { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, files: listed } as unknown as Manifest;
  return { manifest, files: map };
}

/** Every file under dir (relative path -> contents), for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name));
      else out[relative(dir, join(d, e.name))] = readFileSync(join(d, e.name), 'utf8');
  };
  walk(dir);
  return out;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, unknown> };
/** Nothing but `dir` itself in its parent: no staging folder left behind. */
const alone = (dir: string): string[] => readdirSync(join(dir, '..'));

describe('writeArtifact', () => {
  it('writes a new folder whole, and nothing beside it', () => {
    const out = fresh();
    writeArtifact(out, artifact({ 'a.wgsl': 'A', 'kernels/k.wgsl': 'K' }));
    expect(snapshot(out)).toMatchObject({ 'a.wgsl': 'A', 'kernels/k.wgsl': 'K' });
    expect(Object.keys(manifestOf(out).files).sort()).toEqual(['a.wgsl', 'kernels/k.wgsl']);
    expect(alone(out)).toEqual(['out']);
  });

  it('refuses a non-empty folder without a kiln manifest (a web project) and leaves it untouched', () => {
    const out = fresh();
    mkdirSync(join(out, '.git'), { recursive: true });
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ name: 'my app', icons: [], files: {} }));
    writeFileSync(join(out, 'index.html'), '<p>hi</p>');
    writeFileSync(join(out, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const before = snapshot(out);
    expect(() => writeArtifact(out, artifact({ 'index.html': 'X' }))).toThrow(/not empty and holds no kiln artifact/);
    expect(snapshot(out)).toEqual(before);
    expect(alone(out)).toEqual(['out']);
  });

  it('refuses the filesystem root and a path that is a file', () => {
    expect(() => writeArtifact('/', artifact({ 'a.wgsl': 'A' }))).toThrow(/filesystem root/);
    const file = fresh();
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, 'mine');
    expect(() => writeArtifact(file, artifact({}))).toThrow(/exists and is not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  it('keeps user files beside an artifact; replaces and removes only files the old manifest lists', () => {
    const out = fresh();
    writeArtifact(out, artifact({ 'old.wgsl': 'O', 'kernels/gone.wgsl': 'G', 'shared.js': 'v1', 'deep/x/y.bin': 'Y' }));
    writeFileSync(join(out, 'notes.txt'), 'user notes');
    mkdirSync(join(out, 'kernels', 'mine'));
    writeFileSync(join(out, 'kernels', 'mine', 'draft.wgsl'), 'user kernel');
    writeArtifact(out, artifact({ 'shared.js': 'v2', 'new.wgsl': 'N' }));
    expect(snapshot(out)).toEqual({
      'shared.js': 'v2',
      'new.wgsl': 'N',
      'notes.txt': 'user notes',
      'kernels/mine/draft.wgsl': 'user kernel',
      'manifest.json': readFileSync(join(out, 'manifest.json'), 'utf8'),
    });
    expect(Object.keys(manifestOf(out).files).sort()).toEqual(['new.wgsl', 'shared.js']);
    // The folders the old artifact alone used are gone; one holding a user file stays.
    expect(existsSync(join(out, 'deep'))).toBe(false);
    expect(statSync(join(out, 'kernels')).isDirectory()).toBe(true);
    expect(alone(out)).toEqual(['out']);
  });

  it('refuses to replace a user file that sits where the new artifact writes', () => {
    const out = fresh();
    writeArtifact(out, artifact({ 'a.wgsl': 'A' }));
    writeFileSync(join(out, 'tokenizer.json'), 'user tokenizer');
    const before = snapshot(out);
    expect(() => writeArtifact(out, artifact({ 'a.wgsl': 'B', 'tokenizer.json': '{}' }))).toThrow(/tokenizer\.json is in the way/);
    expect(snapshot(out)).toEqual(before);
  });

  it('refuses a kiln manifest that lists paths outside its folder', () => {
    const out = fresh();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ format: MANIFEST_FORMAT, version: 1, files: { '../victim.txt': {} } }));
    writeFileSync(join(out, '..', 'victim.txt'), 'keep');
    expect(() => writeArtifact(out, artifact({ 'a.wgsl': 'A' }))).toThrow(/lists '\.\.\/victim\.txt', a path kiln cannot own/);
    expect(readFileSync(join(out, '..', 'victim.txt'), 'utf8')).toBe('keep');
  });

  it('writes into an empty folder and through a link to a folder', () => {
    const out = fresh();
    mkdirSync(out, { recursive: true });
    writeArtifact(out, artifact({ 'a.wgsl': 'A' }));
    expect(snapshot(out)['a.wgsl']).toBe('A');
    const link = join(out, '..', 'link');
    const real = join(out, '..', 'real');
    mkdirSync(real);
    symlinkSync(real, link);
    writeArtifact(link, artifact({ 'b.wgsl': 'B' }));
    expect(snapshot(real)['b.wgsl']).toBe('B');
  });

  it('a write that fails midway leaves the previous artifact intact and no staging folder', () => {
    const out = fresh();
    writeArtifact(out, artifact({ 'a.wgsl': 'A', 'w.bin': 'weights v1' }));
    writeFileSync(join(out, 'mine.txt'), 'user');
    const before = snapshot(out);
    const failing = {
      path: 'weights-0.bin',
      bytes: 8,
      *chunks() {
        yield utf8('half');
        throw new Error('disk gone');
      },
    };
    expect(() => writeArtifact(out, artifact({ 'a.wgsl': 'B' }, failing))).toThrow(/disk gone/);
    expect(snapshot(out)).toEqual(before);
    expect(alone(out)).toEqual(['out']);
  });

  it('removes a staging folder a killed compile left, and nothing else beside the target', () => {
    const out = fresh();
    const parent = join(out, '..');
    // A dead writer's staging folder (marker with a pid that is not running) and a look-alike without a marker.
    mkdirSync(join(parent, '.out.kiln-staging-dead01'));
    writeFileSync(join(parent, '.out.kiln-staging-dead01', '.kiln-staging'), `kiln staging folder for ${out}, pid 999999999\n`);
    writeFileSync(join(parent, '.out.kiln-staging-dead01', 'weights-0.bin'), 'partial');
    mkdirSync(join(parent, '.out.kiln-staging-user'));
    // A marker that names another target does not make the folder this compile's to remove.
    mkdirSync(join(parent, '.out.kiln-staging-other'));
    writeFileSync(join(parent, '.out.kiln-staging-other', '.kiln-staging'), `kiln staging folder for /elsewhere/out, pid 999999999\n`);
    writeArtifact(out, artifact({ 'a.wgsl': 'A' }));
    expect(alone(out).sort()).toEqual(['.out.kiln-staging-other', '.out.kiln-staging-user', 'out']);
  });
});
