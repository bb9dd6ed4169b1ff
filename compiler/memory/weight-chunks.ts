// A constant's storage bytes (the layout kernels read, see wgsl/accessor.ts), streamed in bounded chunks. Inline
// constants encode at once; external ones (safetensors tensors) are read from their file a few megabytes at a
// time and converted when the file's encoding differs from the storage one (F64 -> f32, I64 -> i32, BF16 -> f32
// when widened, F32 -> f16 with --weights-dtype f16, ...). Identical encodings are copied byte for byte.
import { closeSync, openSync } from 'node:fs';
import {
  type ConstantDecl,
  type DType,
  type ExternalData,
  ExternalDataError,
  FORMAT_BYTES,
  FORMAT_DTYPE,
  type TensorType,
  decodeFormat,
  formatReader,
  layoutElements,
  layoutMatrix,
  readExternalBytes,
  layoutSource,
  numel,
  narrowExternal,
  readExactly,
} from '../../ir/index.js';
import { byteLength, encode } from '../../runtime/codec.js';
import type { StoredDecl } from './storage-decls.js';

/** Elements per chunk: a multiple of 8 so packed sub-byte lanes never straddle chunks. */
const CHUNK_ELEMENTS = 1 << 22;

/** Encodings whose file bytes already are the storage bytes. */
const COPYABLE = new Set(['F32', 'F16', 'BF16', 'I32', 'I8', 'U8']);

/** The storage byte length of a constant (unpadded). */
export function constantBytes(c: ConstantDecl): number {
  return byteLength(c.type.dtype, numel(c.type.shape as number[]));
}

export function* constantChunks(c: StoredDecl): Iterable<Uint8Array> {
  if (c.value) {
    yield encode(c.value.dtype, c.value.data).subarray(0, constantBytes(c));
    return;
  }
  if (!c.external) throw new Error(`constant %${c.name} has no data (parameter '${c.source ?? c.name}' was never bound to weights)`);
  if (c.arrangeFrom) {
    yield* arrangedChunks(c.external, c.arrangeFrom);
    return;
  }
  yield* externalChunks(c.external, c.type.dtype, numel(c.type.shape as number[]));
}

/**
 * A checkpoint tensor in a layout: reordering reads across the whole tensor, so its file bytes are read once (the
 * only whole copy held), and storage order is produced a chunk at a time, each element looked up at its logical
 * index (layoutSource) and narrowed to the dtype; padding is zero.
 */
function* arrangedChunks(ext: ExternalData, t: TensorType): Iterable<Uint8Array> {
  const [rows, cols] = layoutMatrix(t.shape as number[]);
  const read = formatReader(ext.format, readExternalBytes(ext, t.shape as number[]));
  const total = layoutElements(t.layout, t.shape as number[]);
  const chunk = new Float64Array(Math.min(ARRANGED_CHUNK, total));
  for (let first = 0; first < total; first += chunk.length) {
    const n = Math.min(chunk.length, total - first);
    for (let s = 0; s < n; s++) {
      const i = layoutSource(t.layout, rows, cols, first + s);
      chunk[s] = i < 0 ? 0 : narrowExternal(read(i), t.dtype, ext, i);
    }
    yield encode(t.dtype, chunk.subarray(0, n)).subarray(0, byteLength(t.dtype, n));
  }
}

/** Stored elements per chunk of an arranged checkpoint tensor (a multiple of 8, as CHUNK_ELEMENTS). */
const ARRANGED_CHUNK = 1 << 20;

function* externalChunks(ext: ExternalData, dtype: DType, count: number): Iterable<Uint8Array> {
  const size = FORMAT_BYTES[ext.format];
  if (count * size !== ext.bytes)
    throw new ExternalDataError(`${ext.file}: tensor '${ext.name}' holds ${ext.bytes} bytes, not ${count} ${ext.format} elements`);
  const copy = COPYABLE.has(ext.format) && FORMAT_DTYPE[ext.format] === dtype;
  const fd = openSync(ext.file, 'r');
  try {
    for (let first = 0; first < count; first += CHUNK_ELEMENTS) {
      const n = Math.min(CHUNK_ELEMENTS, count - first);
      const raw = readExactly(fd, ext.offset + first * size, n * size, ext.file);
      if (copy) {
        yield raw;
        continue;
      }
      const values = decodeFormat(ext.format, raw, n);
      for (let i = 0; i < n; i++) {
        if (ext.format === 'I64' && (values[i]! < -(2 ** 31) || values[i]! > 2 ** 31 - 1))
          throw new ExternalDataError(`${ext.file}: tensor '${ext.name}' value ${values[i]} at index ${first + i} does not fit i32 (kiln narrows I64 to i32)`);
        values[i] = narrowExternal(values[i]!, dtype, ext, first + i);
      }
      yield encode(dtype, values).subarray(0, byteLength(dtype, n));
    }
  } finally {
    closeSync(fd);
  }
}
