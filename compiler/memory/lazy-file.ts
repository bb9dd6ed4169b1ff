// An artifact file produced on demand: its size and sha256 are known at compile time, its bytes are streamed
// when written. Weights pages of a multi-gigabyte checkpoint are lazy so that compiling never holds them whole.
import { createHash } from 'node:crypto';

export interface LazyFile {
  readonly bytes: number;
  readonly sha256: string;
  /** The contents in order; each call streams them afresh. */
  chunks(): Iterable<Uint8Array>;
}

export type ArtifactFile = Uint8Array | LazyFile;

/** A lazy file over `chunks`, hashed now (one streaming pass). */
export function lazyFile(chunks: () => Iterable<Uint8Array>): LazyFile {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const c of chunks()) {
    hash.update(c);
    bytes += c.byteLength;
  }
  return { bytes, sha256: hash.digest('hex'), chunks };
}

export const isLazy = (f: ArtifactFile): f is LazyFile => !(f instanceof Uint8Array);

/** The whole contents in memory (for in-memory artifacts of small models). */
export function materialize(f: ArtifactFile): Uint8Array {
  if (!isLazy(f)) return f;
  const out = new Uint8Array(f.bytes);
  let at = 0;
  for (const c of f.chunks()) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
