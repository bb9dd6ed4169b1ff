// Sharded checkpoints (Hugging Face layout): model.safetensors.index.json maps each tensor name to the shard file
// holding it, `{"metadata": {...}, "weight_map": {"name": "model-00001-of-00002.safetensors"}}`. Shards are
// opened like single files; the index is only trusted as far as the shards agree with it, and a shard name may
// not lead outside the index's folder (an index from the internet must not make kiln read ~/.ssh). The one
// exception is the Hugging Face hub cache, where snapshots/<revision>/ holds symbolic links into ../../blobs/.
import { closeSync, fstatSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep, win32 } from 'node:path';
import type { Checkpoint, CheckpointTensor } from './checkpoint.js';
import { SafetensorsError, fileError, osReason } from './errors.js';
import { isPlainObject, MAX_HEADER_BYTES } from './header.js';
import { openSafetensorsFile } from './file.js';

/** An index lists names and file names only; anything larger than a safetensors header bound is not an index. */
const MAX_INDEX_BYTES = MAX_HEADER_BYTES;

export function openShardedCheckpoint(indexPath: string): Checkpoint {
  const index = resolve(indexPath);
  const { weightMap, metadata: indexMetadata } = readIndex(index);
  const shardNames = [...new Set(weightMap.values())];
  const dir = dirname(index);
  const tensors = new Map<string, CheckpointTensor>();
  const shardOf = new Map<string, string>();
  const metadata: Record<string, string> = {};
  for (const shardName of shardNames) {
    const shard = openSafetensorsFile(shardPath(index, dir, shardName, weightMap));
    Object.assign(metadata, shard.metadata);
    for (const t of shard.tensors) {
      const first = shardOf.get(t.name);
      if (first !== undefined)
        throw fileError(index, `is in both shards ${first} and ${shardName}; the checkpoint is inconsistent (re-export it)`, t.name);
      shardOf.set(t.name, shardName);
      tensors.set(t.name, t);
    }
  }
  for (const [name, shardName] of weightMap)
    if (shardOf.get(name) !== shardName) {
      const actually = shardOf.get(name);
      throw fileError(
        index,
        `weight_map puts it in ${shardName}, but ${actually === undefined ? 'no shard holds it' : `it is in ${actually}`}; the index does not match its shards (re-download them together)`,
        name,
      );
    }
  Object.assign(metadata, indexMetadata);
  return { path: index, tensors, metadata };
}

function readIndex(index: string): { weightMap: Map<string, string>; metadata: Record<string, string> } {
  let text: string;
  try {
    const fd = openSync(index, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_INDEX_BYTES) throw fileError(index, `is ${size} bytes, over the ${MAX_INDEX_BYTES}-byte limit for a shard index`);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof SafetensorsError) throw e;
    throw fileError(index, `cannot read: ${osReason(e)}`, undefined, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fileError(index, `is not valid JSON (${(e as Error).message}); a shard index is {"metadata": {...}, "weight_map": {...}}`, undefined, e);
  }
  if (!isPlainObject(json) || !isPlainObject(json.weight_map))
    throw fileError(index, 'has no "weight_map" object; a shard index is {"metadata": {...}, "weight_map": {"tensor name": "shard file"}}');
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(json.weight_map)) {
    if (typeof shard !== 'string' || shard === '')
      throw fileError(index, `weight_map entry is ${JSON.stringify(shard)}, not a shard file name`, name);
    weightMap.set(name, shard);
  }
  return { weightMap, metadata: indexMetadata(json.metadata, index) };
}

/**
 * The index's metadata as strings: Hugging Face writes numbers there (`"total_size": 1234`), which become
 * their JSON text so the checkpoint's metadata stays a string map like a file's `__metadata__`.
 */
function indexMetadata(value: unknown, index: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw fileError(index, `"metadata" is ${JSON.stringify(value)}, not an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** The shard's absolute path, refused when its name leads outside the index's folder, or when it is missing. */
function shardPath(index: string, dir: string, name: string, weightMap: ReadonlyMap<string, string>): string {
  const refuse = (why: string) =>
    fileError(index, `shard ${JSON.stringify(name)} ${why}; shards must be files in the index's folder (${dir})`);
  if (isAbsolute(name) || win32.isAbsolute(name)) throw refuse('is an absolute path');
  if (name.split(/[\\/]/).includes('..')) throw refuse('climbs out with ".."');
  const path = join(dir, name);
  let real: string;
  let realDir: string;
  try {
    real = realpathSync(path);
    realDir = realpathSync(dir);
  } catch (e) {
    const listed = [...weightMap.values()].filter((s) => s === name).length;
    throw fileError(index, `shard ${name} is missing (${osReason(e)}); it holds ${listed} of the checkpoint's tensors, download it next to the index`, undefined, e);
  }
  if (!isInside(realDir, real) && !isInHubCacheBlobs(dir, real)) throw refuse(`resolves to ${real} through a symbolic link`);
  if (!statSync(real).isFile()) throw refuse('is not a regular file');
  // The path inside the folder, not the link target: messages then name model-00001-of-00002.safetensors, not a blob hash.
  return path;
}

function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** A hub cache snapshot (<repo>/snapshots/<revision>/) links its files to <repo>/blobs/<hash>. */
function isInHubCacheBlobs(dir: string, real: string): boolean {
  if (basename(dirname(dir)) !== 'snapshots') return false;
  try {
    return isInside(realpathSync(join(dir, '..', '..', 'blobs')), real);
  } catch {
    return false; // no blobs folder: not a hub cache
  }
}
