// NumPy .npy files (format versions 1-3): little-endian numeric arrays in C order.
import { f16FromBits } from '../../runtime/f16.js';
import { InputError } from './json-tensor.js';

const DESCR: Readonly<Record<string, { dtype: string; bytes: number; read: (v: DataView, o: number) => number }>> = {
  '<f4': { dtype: 'f32', bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { dtype: 'f64', bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  '<f2': { dtype: 'f16', bytes: 2, read: (v, o) => f16FromBits(v.getUint16(o, true)) },
  '<i4': { dtype: 'i32', bytes: 4, read: (v, o) => v.getInt32(o, true) },
  '<u4': { dtype: 'u32', bytes: 4, read: (v, o) => v.getUint32(o, true) },
  '<i8': { dtype: 'i64', bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '<u8': { dtype: 'u64', bytes: 8, read: (v, o) => Number(v.getBigUint64(o, true)) },
  '<i2': { dtype: 'i16', bytes: 2, read: (v, o) => v.getInt16(o, true) },
  '<u2': { dtype: 'u16', bytes: 2, read: (v, o) => v.getUint16(o, true) },
  '|i1': { dtype: 'i8', bytes: 1, read: (v, o) => v.getInt8(o) },
  '|u1': { dtype: 'u8', bytes: 1, read: (v, o) => v.getUint8(o) },
  '|b1': { dtype: 'bool', bytes: 1, read: (v, o) => v.getUint8(o) },
};

export interface NpyArray {
  /** numpy's element type as a kiln-like name (f32, i64, u8, ...). */
  readonly dtype: string;
  readonly shape: number[];
  readonly data: Float64Array;
}

export function readNpy(bytes: Uint8Array, file: string): NpyArray {
  const fail = (why: string): never => {
    throw new InputError(`${file}: not a readable .npy file (${why})`);
  };
  if (bytes.byteLength < 10 || String.fromCharCode(...bytes.subarray(0, 6)) !== '\x93NUMPY') fail('missing the \\x93NUMPY magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`format version ${major}.${bytes[7]} is not one kiln reads (1 to 3)`);
  if (major > 1 && bytes.byteLength < 12) fail('header length runs past the end of the file');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.byteLength) fail('header runs past the end of the file');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? fail('no descr');
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] ?? fail('no fortran_order');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail('no shape');
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const kind = (Object.hasOwn(DESCR, descr!) ? DESCR[descr!] : undefined) ?? fail(`element type ${descr} is not supported (little-endian numeric types only)`);
  const dims = shapeText!.split(',').map((s) => s.trim()).filter(Boolean);
  if (dims.some((d) => !/^\d+$/.test(d))) fail(`shape (${shapeText}) must list non-negative integers`);
  const shape = dims.map(Number);
  // A zero dim makes the element count 0 whatever the others are, so the size check below cannot catch these.
  if (!shape.every(Number.isSafeInteger)) fail(`shape (${shapeText}) has a dim over 2^53, which no array has; the header is damaged`);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (dataStart + count * kind!.bytes > bytes.byteLength) fail(`expected ${count} elements of ${descr} but the file is too short`);
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = kind!.read(view, dataStart + i * kind!.bytes);
  return { dtype: kind!.dtype, shape, data };
}
