import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** Read a text file, turning a missing or unreadable file into a message naming it. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
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
