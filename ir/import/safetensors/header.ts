// The safetensors header: an 8-byte little-endian length, then that many bytes of UTF-8 JSON mapping tensor
// names to {dtype, shape, data_offsets} (offsets relative to the data section that follows), plus an optional
// `__metadata__` string map. Everything a checkpoint says about a tensor is checked here, before anyone trusts an
// offset: a corrupt or truncated file must fail with a message, never read the wrong bytes.
import { EXTERNAL_FORMATS, type ExternalFormat, FORMAT_BYTES } from '../../external.js';
import { fileError } from './errors.js';

/** Same bound as the reference implementation: larger headers are corrupt (or an attack), never real. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes before the header: its length as a little-endian u64. */
export const LENGTH_PREFIX_BYTES = 8;

/** safetensors dtypes that exist but that kiln does not read (so the message can say "unsupported", not "unknown"). */
const UNSUPPORTED_DTYPES = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'U16', 'U32', 'U64', 'C64']);

const SUPPORTED_LIST = EXTERNAL_FORMATS.join(' ');

export interface HeaderEntry {
  readonly name: string;
  readonly format: ExternalFormat;
  readonly shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Entries sorted by begin (file order), ties by name. */
  readonly entries: readonly HeaderEntry[];
  readonly metadata: Record<string, string>;
}

/** The header length from the first 8 bytes, checked against the file size and the bound. */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < LENGTH_PREFIX_BYTES)
    throw fileError(file, `is ${fileSize} bytes, shorter than the 8-byte header length every safetensors file starts with; it is truncated or not a safetensors file`);
  const length = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  if (length === 0n) throw fileError(file, 'header length is 0; a safetensors header is at least "{}", so the file is corrupt or not a safetensors file');
  // The bound first: a length in the gigabytes is garbage (or hostile) whatever the file size.
  if (length > BigInt(MAX_HEADER_BYTES))
    throw fileError(file, `header length ${length} is over the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not a safetensors file`);
  const room = fileSize - LENGTH_PREFIX_BYTES;
  if (length > BigInt(room))
    throw fileError(file, `header length ${length} is more than the ${room} bytes after it; the file is truncated (re-download or re-export it) or not a safetensors file`);
  return Number(length);
}

/** Parse and validate the header JSON; `dataBytes` is the size of the data section (file size - 8 - header). */
export function parseHeader(bytes: Uint8Array, dataBytes: number, file: string): SafetensorsHeader {
  const json = decodeJson(bytes, file);
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') Object.assign(metadata, parseMetadata(value, file));
    else entries.push(parseEntry(name, value, dataBytes, file));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : 1));
  checkNoOverlap(entries, file);
  return { entries, metadata };
}

function decodeJson(bytes: Uint8Array, file: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw fileError(file, 'header is not valid UTF-8; the file is corrupt or not a safetensors file', undefined, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fileError(file, `header is not valid JSON (${(e as Error).message}); the file is corrupt or not a safetensors file`, undefined, e);
  }
  if (!isPlainObject(json))
    throw fileError(file, `header is JSON ${describeJson(json)}, not an object mapping tensor names to {dtype, shape, data_offsets}`);
  return json;
}

function parseMetadata(value: unknown, file: string): Record<string, string> {
  if (!isPlainObject(value)) throw fileError(file, `__metadata__ is ${describeJson(value)}, not a map of strings to strings`);
  for (const [key, v] of Object.entries(value))
    if (typeof v !== 'string') throw fileError(file, `__metadata__ entry '${key}' is ${describeJson(v)}, not a string (safetensors metadata maps strings to strings)`);
  return value as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataBytes: number, file: string): HeaderEntry {
  const fail = (message: string) => fileError(file, message, name);
  if (!isPlainObject(value) || !('dtype' in value) || !('shape' in value) || !('data_offsets' in value))
    throw fail(`entry is ${describeJson(value)}, not {"dtype", "shape", "data_offsets"}; the file is corrupt`);
  const format = parseDType(value.dtype, fail);
  const shape = value.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw fail(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    throw fail(`data_offsets ${JSON.stringify(offsets)} is not [begin, end] with non-negative integers`);
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw fail(`data_offsets [${begin}, ${end}] end before they begin`);
  const bytes = byteSize(shape as number[], format);
  if (bytes === undefined) throw fail(`shape [${shape.join(',')}] has more elements than can be addressed`);
  if (end - begin !== bytes)
    throw fail(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${format}[${shape.join(',')}] needs ${bytes}; the file is corrupt`);
  if (end > dataBytes)
    throw fail(`data_offsets [${begin}, ${end}] reach past the ${dataBytes}-byte data section; the file is truncated (re-download or re-export it)`);
  return { name, format, shape: shape as number[], begin, end };
}

function parseDType(dtype: unknown, fail: (m: string) => Error): ExternalFormat {
  if (typeof dtype === 'string' && (EXTERNAL_FORMATS as readonly string[]).includes(dtype)) return dtype as ExternalFormat;
  if (typeof dtype === 'string' && UNSUPPORTED_DTYPES.has(dtype))
    throw fail(`dtype ${dtype} is not supported by kiln (supported: ${SUPPORTED_LIST}); convert the checkpoint, e.g. to F16 or F32`);
  throw fail(`unknown dtype ${JSON.stringify(dtype)} (supported: ${SUPPORTED_LIST})`);
}

/** Byte size of a tensor, or undefined when it would not be a safe integer. */
export function byteSize(shape: readonly number[], format: ExternalFormat): number | undefined {
  if (shape.includes(0)) return 0; // a zero dim empties the tensor however large the others are
  let n = FORMAT_BYTES[format];
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/** Each data byte belongs to at most one tensor; gaps between tensors are tolerated, empty tensors occupy nothing. */
function checkNoOverlap(sorted: readonly HeaderEntry[], file: string): void {
  let last: HeaderEntry | undefined; // the non-empty tensor reaching furthest so far
  for (const e of sorted) {
    if (e.begin === e.end) continue;
    if (last && e.begin < last.end)
      throw fileError(
        file,
        `tensors '${last.name}' [${last.begin}, ${last.end}) and '${e.name}' [${e.begin}, ${e.end}) overlap in the data section; the file is corrupt (re-export it)`,
      );
    if (!last || e.end > last.end) last = e;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object ${truncate(JSON.stringify(v))}`;
  return `${typeof v} ${truncate(JSON.stringify(v))}`;
}

const truncate = (s: string): string => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
