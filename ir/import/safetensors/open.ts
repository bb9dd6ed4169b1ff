// openCheckpoint: one entry point for the three ways a checkpoint is handed over — a .safetensors file, a shard
// index (model.safetensors.index.json), or a folder holding either (as Hugging Face repositories do).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Checkpoint } from './checkpoint.js';
import { fileError, osReason } from './errors.js';
import { openSafetensorsFile } from './file.js';
import { openShardedCheckpoint } from './sharded.js';

export const SINGLE_FILE_NAME = 'model.safetensors';
export const INDEX_FILE_NAME = 'model.safetensors.index.json';

export function openCheckpoint(path: string): Checkpoint {
  const abs = resolve(path);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    throw fileError(abs, `cannot open: ${osReason(e)}`, undefined, e);
  }
  if (isDir) return openCheckpoint(checkpointInFolder(abs));
  if (abs.endsWith('.json')) return openShardedCheckpoint(abs);
  const file = openSafetensorsFile(abs);
  return { path: file.path, tensors: new Map(file.tensors.map((t) => [t.name, t])), metadata: file.metadata };
}

/** model.safetensors first, as the Hugging Face loaders do, then the shard index. */
function checkpointInFolder(dir: string): string {
  for (const name of [SINGLE_FILE_NAME, INDEX_FILE_NAME]) if (existsSync(join(dir, name))) return join(dir, name);
  let others: string[] = [];
  try {
    others = readdirSync(dir).filter((f) => f.endsWith('.safetensors') || f.endsWith('.safetensors.index.json'));
  } catch {
    // unreadable folder: the message below still says what was expected
  }
  const hint = others.length ? `; it has ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''}: pass one of those` : '';
  throw fileError(dir, `holds neither ${SINGLE_FILE_NAME} nor ${INDEX_FILE_NAME}${hint}`);
}
