// What kiln may do to an output folder, decided before anything is written. kiln owns a folder's files only when
// the folder holds a kiln artifact: a manifest.json with kiln's format and version fields, whose `files` lists
// paths inside the folder. Those listed files and the manifest are all it will ever replace or remove there; it
// never walks the folder, so user files beside an artifact survive every recompile. A non-empty folder without a
// kiln manifest (a web project with a PWA manifest.json, a home directory, /) is refused, and no flag overrides
// that: deleting foreign files is not an option kiln offers.
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MANIFEST_FORMAT } from '../../runtime/plan.js';
import { onPath, systemError } from '../io/fs-errors.js';

export class OutputFolderError extends Error {
  override name = 'OutputFolderError';
}

export type OutputFolder =
  /** Nothing there yet: the artifact is renamed into place whole. */
  | { readonly kind: 'new'; readonly path: string }
  /** An existing folder, empty or holding a kiln artifact whose files (relative paths) kiln owns. */
  | { readonly kind: 'existing'; readonly path: string; readonly owned: readonly string[]; readonly manifest?: Record<string, unknown> };

/** A manifest path is kiln's to touch only if it names a file strictly inside the folder. */
const insideFolder = (p: string): boolean =>
  p.length > 0 && !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');

/** Parse manifest.json as a kiln manifest; undefined when it is someone else's. */
function kilnManifest(file: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(onPath(file, 'read', () => readFileSync(file, 'utf8')));
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const m = parsed as Record<string, unknown>;
  const files = m.files;
  if (m.format !== MANIFEST_FORMAT || !Number.isInteger(m.version) || typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
  return m;
}

/** Decide what writing an artifact to `dir` may touch; throws OutputFolderError when the answer is nothing. */
export function inspectOutputFolder(dir: string): OutputFolder {
  const path = resolve(dir);
  if (dirname(path) === path) throw new OutputFolderError(`-o ${dir}: refusing to write an artifact into the filesystem root; choose a new or empty folder`);
  let isLink = false;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new', path };
    throw systemError(e, path, 'inspect');
  }
  // A link to a folder is written through: the artifact goes where the link points.
  const real = isLink ? onPath(path, 'resolve', () => realpathSync(path)) : path;
  if (!onPath(real, 'inspect', () => statSync(real)).isDirectory()) throw new OutputFolderError(`-o ${dir}: exists and is not a folder; choose a folder path`);
  if (dirname(real) === real) throw new OutputFolderError(`-o ${dir}: refusing to write an artifact into the filesystem root; choose a new or empty folder`);
  const entries = onPath(real, 'list', () => readdirSync(real));
  if (entries.length === 0) return { kind: 'existing', path: real, owned: [] };
  const manifest = entries.includes('manifest.json') ? kilnManifest(`${real}/manifest.json`) : undefined;
  if (!manifest)
    throw new OutputFolderError(
      `-o ${dir}: the folder is not empty and holds no kiln artifact (no manifest.json written by kiln); kiln writes only into a new folder, an empty one, or an earlier artifact: choose another -o`,
    );
  const listed = Object.keys(manifest.files as object);
  const outside = listed.find((p) => !insideFolder(p) || p === 'manifest.json');
  if (outside !== undefined)
    throw new OutputFolderError(`-o ${dir}: its manifest.json lists '${outside}', a path kiln cannot own; not touching the folder: choose another -o`);
  return { kind: 'existing', path: real, owned: ['manifest.json', ...listed], manifest };
}
