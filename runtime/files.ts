// Where an artifact's files come from: a directory in Node, a URL (or anything fetch can read) in a browser, or
// caller-supplied readers. Paths come from the manifest, so they are checked to stay inside the artifact.
import { isNode } from './device.js';

export interface ArtifactFiles {
  /** A human-readable name of the artifact's location, for error messages. */
  readonly where: string;
  read(path: string): Promise<Uint8Array>;
}

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

function checkRelative(path: string, where: string): void {
  if (path.startsWith('/') || path.includes('\\') || path.split('/').some((p) => p === '..' || p === ''))
    throw new ArtifactError(`${where}: file path '${path}' in the manifest leaves the artifact folder`);
}

function fromUrl(base: URL): ArtifactFiles {
  const root = base.href.endsWith('/') ? base : new URL(`${base.href}/`);
  return {
    where: root.href,
    async read(path) {
      checkRelative(path, root.href);
      const res = await fetch(new URL(path, root));
      if (!res.ok) throw new ArtifactError(`${root.href}: cannot fetch ${path} (HTTP ${res.status})`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

async function fromDirectory(dir: string): Promise<ArtifactFiles> {
  // Specifiers in variables keep browser bundlers from resolving Node built-ins.
  const fsName = 'node:fs/promises';
  const pathName = 'node:path';
  const fs = (await import(fsName)) as typeof import('node:fs/promises');
  const pathMod = (await import(pathName)) as typeof import('node:path');
  return {
    where: dir,
    async read(path) {
      checkRelative(path, dir);
      try {
        return new Uint8Array(await fs.readFile(pathMod.join(dir, path)));
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new ArtifactError(`${dir}: cannot read ${path}${code === 'ENOENT' ? ' (missing; is this a kiln artifact folder?)' : `: ${(e as Error).message}`}`);
      }
    },
  };
}

/** Resolve a location: an ArtifactFiles is used as is; a URL or URL-like string is fetched; in Node a string is a directory. */
export async function openArtifact(location: string | URL | ArtifactFiles): Promise<ArtifactFiles> {
  if (typeof location === 'object' && 'read' in location) return location;
  if (location instanceof URL) return location.protocol === 'file:' && isNode() ? fromDirectory(decodeURIComponent(location.pathname)) : fromUrl(location);
  if (isNode() && !/^[a-z]+:\/\//i.test(location)) return fromDirectory(location);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return fromUrl(new URL(location, base));
}

/** sha256 of bytes as hex, through WebCrypto (present in browsers and in Node 20 as globalThis.crypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
