// External tensor data (TensorProto.data_location = EXTERNAL): the bytes live in another file, named by the
// `location` entry relative to the model's folder, optionally at `offset` for `length` bytes. A model is untrusted
// input, so the file must stay inside that folder: absolute locations, `..` that climbs out, and symlinks that
// point out are all rejected, as is a range past the end of the file.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { invalid } from './errors.js';
import type { TensorProto } from './proto.js';

/** Reads a tensor's external bytes; `what` names the tensor in errors. */
export type ExternalDataReader = (t: TensorProto, what: string) => Uint8Array;

const isInside = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

function entries(t: TensorProto, what: string): { location: string; offset: number; length?: number } {
  const map = new Map<string, string>();
  for (const e of t.external_data) if (e.key) map.set(e.key, e.value ?? '');
  const location = map.get('location');
  if (!location) return invalid(`${what}: external data has no 'location' entry`);
  const int = (key: string): number | undefined => {
    const v = map.get(key);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v))) return invalid(`${what}: external data '${key}' is not a byte count: '${v}'`);
    return Number(v);
  };
  const length = int('length');
  return { location, offset: int('offset') ?? 0, ...(length === undefined ? {} : { length }) };
}

/** A reader confined to `baseDir` (the model's folder); undefined baseDir rejects every external tensor. */
export function externalDataReader(baseDir: string | undefined): ExternalDataReader {
  return (t, what) => {
    const { location, offset, length } = entries(t, what);
    if (baseDir === undefined)
      return invalid(`${what}: data is stored in external file '${location}', but the model was given as bytes; pass baseDir (the model's folder)`);
    if (isAbsolute(location) || /^[A-Za-z]:[\\/]/.test(location))
      return invalid(`${what}: external data location '${location}' is an absolute path; it must be relative to the model's folder ${baseDir}`);
    const folder = realpathOr(baseDir, what);
    const path = resolve(folder, location);
    if (!isInside(folder, path)) return invalid(`${what}: external data location '${location}' escapes the model's folder ${baseDir}`);
    const real = realpathOr(path, what, location);
    if (!isInside(folder, real))
      return invalid(`${what}: external data file '${location}' resolves (through a symlink) to ${real}, outside the model's folder ${baseDir}`);
    return readRange(real, location, offset, length, what);
  };
}

function realpathOr(path: string, what: string, location?: string): string {
  try {
    return realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return invalid(`${what}: cannot open external data ${location ? `file '${location}' (${path})` : `folder ${path}`}: ${code}`);
  }
}

function readRange(path: string, location: string, offset: number, length: number | undefined, what: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return invalid(`${what}: cannot open external data file '${location}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return invalid(`${what}: external data '${location}' is not a regular file`);
    const size = stat.size;
    const n = length ?? size - offset;
    if (offset > size || n < 0 || offset + n > size)
      return invalid(
        `${what}: external data range offset ${offset}${length === undefined ? '' : ` length ${length}`} lies past the end of '${location}' (${size} bytes)`,
      );
    const buf = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const got = readSync(fd, buf, done, n - done, offset + done);
      if (got <= 0) return invalid(`${what}: external data file '${location}' ended early`);
      done += got;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
