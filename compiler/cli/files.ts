import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactError, checkManifest } from '../../runtime/index.js';
import type { Manifest } from '../../runtime/plan.js';
import { FileSystemError, systemError } from '../io/fs-errors.js';
import { UsageError } from './errors.js';

/** Read a text file, turning a missing or unreadable file into a message naming it. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw systemError(e, path, 'read');
  }
}

/** Split `name=path` arguments into a map, rejecting malformed or repeated names. */
export function parseAssignments(items: readonly string[], flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new UsageError(`${flag} expects name=file, got '${item}'`);
    const name = item.slice(0, eq);
    if (out.has(name)) throw new UsageError(`${flag} ${name} given twice`);
    out.set(name, item.slice(eq + 1));
  }
  return out;
}

/** An artifact folder's manifest.json, parsed and checked as the runtime checks it (so damage is reported, not hit). */
export function readManifestFile(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof FileSystemError) throw new FileSystemError(`${e.message} (is ${dir} a kiln artifact folder?)`, e.code, e.path);
    throw new ArtifactError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  const problems = checkManifest(parsed);
  if (problems.length) throw new ArtifactError(`${path}: ${problems.join('; ')}`);
  return parsed as Manifest;
}
