// Opening one .safetensors file: read the 8-byte length and the header, never tensor data, and turn each entry
// into a CheckpointTensor whose ExternalData points at absolute bytes in the file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { FORMAT_DTYPE } from '../../external.js';
import type { CheckpointTensor } from './checkpoint.js';
import { fileError, osReason } from './errors.js';
import { LENGTH_PREFIX_BYTES, parseHeader, parseHeaderLength } from './header.js';

export interface SafetensorsFile {
  /** Absolute path. */
  readonly path: string;
  /** In file order. */
  readonly tensors: readonly CheckpointTensor[];
  readonly metadata: Record<string, string>;
}

export function openSafetensorsFile(path: string): SafetensorsFile {
  const file = resolve(path);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw fileError(file, `cannot open: ${osReason(e)}`, undefined, e);
  }
  try {
    const size = statSize(fd, file);
    const prefix = readAt(fd, 0, Math.min(LENGTH_PREFIX_BYTES, size), file);
    const headerBytes = parseHeaderLength(prefix, size, file);
    const header = parseHeader(readAt(fd, LENGTH_PREFIX_BYTES, headerBytes, file), size - LENGTH_PREFIX_BYTES - headerBytes, file);
    const dataStart = LENGTH_PREFIX_BYTES + headerBytes;
    const tensors = header.entries.map(
      (e): CheckpointTensor => ({
        name: e.name,
        format: e.format,
        shape: e.shape,
        dtype: FORMAT_DTYPE[e.format],
        data: { file, offset: dataStart + e.begin, bytes: e.end - e.begin, format: e.format, name: e.name },
      }),
    );
    return { path: file, tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

function statSize(fd: number, file: string): number {
  let st;
  try {
    st = fstatSync(fd);
  } catch (e) {
    throw fileError(file, `cannot stat: ${osReason(e)}`, undefined, e);
  }
  if (!st.isFile()) throw fileError(file, 'is not a regular file; pass a .safetensors file, a model.safetensors.index.json, or a folder holding one');
  return st.size;
}

/** Read exactly `length` bytes; a short read means the file shrank since it was measured. */
function readAt(fd: number, position: number, length: number, file: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, out, done, length - done, position + done);
    } catch (e) {
      throw fileError(file, `cannot read: ${osReason(e)}`, undefined, e);
    }
    if (n === 0) throw fileError(file, `ends before byte ${position + length}; it was truncated or changed while being read`);
    done += n;
  }
  return out;
}
