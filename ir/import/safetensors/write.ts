// Writing safetensors files by streaming: each tensor's bytes come from a chunk generator and go straight to the
// file, so a multi-gigabyte checkpoint is written in the memory of one chunk. The header is known up front (it
// needs only names, formats and shapes), which is what makes a single pass possible. Files are written to a
// temporary name and renamed, so a failed write never leaves a plausible-looking truncated checkpoint.
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXTERNAL_FORMATS, type ExternalFormat } from '../../external.js';
import { INDEX_FILE_NAME } from './open.js';
import { fileError, osReason, SafetensorsError } from './errors.js';
import { byteSize, LENGTH_PREFIX_BYTES } from './header.js';

export interface TensorToWrite {
  readonly name: string;
  readonly format: ExternalFormat;
  readonly shape: readonly number[];
  /** The tensor's little-endian bytes in row-major order, in chunks of any size; called once. */
  readonly chunks: () => Iterable<Uint8Array>;
}

export interface ShardedWriteResult {
  readonly indexPath: string;
  readonly shardPaths: readonly string[];
}

/** Write one .safetensors file holding `tensors` in the given order. */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Readonly<Record<string, string>>): void {
  const file = resolve(path);
  const sizes = tensorSizes(tensors, file);
  const header = encodeHeader(tensors, sizes, metadata, file);
  const temp = `${file}.${process.pid}.partial`;
  let fd: number;
  try {
    fd = openSync(temp, 'w');
  } catch (e) {
    throw fileError(file, `cannot create: ${osReason(e)}`, undefined, e);
  }
  try {
    const prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    writeAll(fd, prefix, file);
    writeAll(fd, header, file);
    tensors.forEach((t, i) => writeTensor(fd, t, sizes[i]!, file));
    closeSync(fd);
    fd = -1;
    renameSync(temp, file);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(temp, { force: true });
    if (e instanceof SafetensorsError) throw e;
    throw fileError(file, `cannot write: ${osReason(e)}`, undefined, e);
  }
}

/**
 * Write `tensors` as model-0000k-of-0000n.safetensors shards of at most `maxShardBytes` data bytes each (a
 * tensor larger than that gets a shard of its own; tensors are never split) plus model.safetensors.index.json,
 * the layout Hugging Face uses. Tensors keep their order; `metadata` goes into every shard's header.
 */
export function writeShardedSafetensors(
  dir: string,
  tensors: readonly TensorToWrite[],
  maxShardBytes: number,
  metadata?: Readonly<Record<string, string>>,
): ShardedWriteResult {
  const folder = resolve(dir);
  if (!(maxShardBytes > 0)) throw fileError(folder, `maxShardBytes must be positive, got ${maxShardBytes}`);
  const sizes = tensorSizes(tensors, folder);
  const shards = groupIntoShards(sizes, maxShardBytes);
  mkdirSync(folder, { recursive: true });
  const weightMap: Record<string, string> = {};
  const shardPaths: string[] = [];
  shards.forEach((members, k) => {
    const name = shardName(k + 1, shards.length);
    const path = join(folder, name);
    writeSafetensors(path, members.map((i) => tensors[i]!), metadata);
    for (const i of members) weightMap[tensors[i]!.name] = name;
    shardPaths.push(path);
  });
  const totalSize = sizes.reduce((a, b) => a + b, 0);
  const indexPath = join(folder, INDEX_FILE_NAME);
  const index = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2);
  const temp = `${indexPath}.${process.pid}.partial`;
  try {
    const fd = openSync(temp, 'w');
    try {
      writeAll(fd, new TextEncoder().encode(`${index}\n`), indexPath);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, indexPath);
  } catch (e) {
    rmSync(temp, { force: true });
    if (e instanceof SafetensorsError) throw e;
    throw fileError(indexPath, `cannot write: ${osReason(e)}`, undefined, e);
  }
  return { indexPath, shardPaths };
}

/** Hugging Face's shard names: 1-based, zero-padded to five digits. */
export function shardName(k: number, n: number): string {
  const pad = (x: number) => String(x).padStart(5, '0');
  return `model-${pad(k)}-of-${pad(n)}.safetensors`;
}

/** Greedy packing in order: a new shard starts when the next tensor would push the current one over the limit. */
function groupIntoShards(sizes: readonly number[], maxShardBytes: number): number[][] {
  const shards: number[][] = [[]];
  let used = 0;
  sizes.forEach((size, i) => {
    const current = shards[shards.length - 1]!;
    if (current.length > 0 && used + size > maxShardBytes) {
      shards.push([i]);
      used = size;
    } else {
      current.push(i);
      used += size;
    }
  });
  return shards;
}

function tensorSizes(tensors: readonly TensorToWrite[], file: string): number[] {
  const seen = new Set<string>();
  return tensors.map((t) => {
    if (t.name === '__metadata__') throw fileError(file, 'is the name safetensors reserves for metadata; rename the tensor', t.name);
    if (seen.has(t.name)) throw fileError(file, 'is given twice; tensor names in a checkpoint are unique', t.name);
    seen.add(t.name);
    if (!EXTERNAL_FORMATS.includes(t.format)) throw fileError(file, `unknown format ${JSON.stringify(t.format)} (supported: ${EXTERNAL_FORMATS.join(' ')})`, t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fileError(file, `shape [${t.shape.join(',')}] is not a list of non-negative integers`, t.name);
    const size = byteSize(t.shape, t.format);
    if (size === undefined) throw fileError(file, `shape [${t.shape.join(',')}] has more elements than can be addressed`, t.name);
    return size;
  });
}

/** The header JSON, keys in tensor order, padded with spaces so the data section starts 8-byte aligned. */
function encodeHeader(tensors: readonly TensorToWrite[], sizes: readonly number[], metadata: Readonly<Record<string, string>> | undefined, file: string): Uint8Array {
  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw fileError(file, `metadata '${k}' is ${typeof v}, not a string (safetensors metadata maps strings to strings)`);
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  tensors.forEach((t, i) => {
    const entry = { dtype: t.format, shape: t.shape, data_offsets: [offset, offset + sizes[i]!] };
    fields.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
    offset += sizes[i]!;
  });
  // Built field by field: an object literal would move integer-like tensor names ("0", "1") to the front.
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

function writeTensor(fd: number, t: TensorToWrite, expected: number, file: string): void {
  let written = 0;
  for (const chunk of t.chunks()) {
    if (written + chunk.byteLength > expected)
      throw fileError(file, `its chunks give more than the ${expected} bytes of ${t.format}[${t.shape.join(',')}]`, t.name);
    writeAll(fd, chunk, file);
    written += chunk.byteLength;
  }
  if (written !== expected) throw fileError(file, `its chunks give ${written} bytes, but ${t.format}[${t.shape.join(',')}] needs ${expected}`, t.name);
}

function writeAll(fd: number, bytes: Uint8Array, file: string): void {
  let done = 0;
  while (done < bytes.byteLength) {
    try {
      done += writeSync(fd, bytes, done, bytes.byteLength - done);
    } catch (e) {
      throw fileError(file, `cannot write: ${osReason(e)}`, undefined, e);
    }
  }
}
