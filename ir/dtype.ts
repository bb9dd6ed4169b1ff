// Element types. The *storage* type is what sits in a GPU buffer (sub-byte integers are packed into u32 words,
// bool is a u32, bf16 is a raw 16-bit pattern); the *value* type is what an op computes with. Keeping the two
// apart is what lets one accessor read an i4 lane out of a packed word and hand the kernel an i32.

import { roundBF16, roundF16 } from '../runtime/f16.js';

export type SubByteWidth = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;
export type SubByteInt = `i${SubByteWidth}` | `u${SubByteWidth}`;
export type DType = 'f32' | 'f16' | 'bf16' | 'i32' | 'u32' | 'i64' | 'bool' | SubByteInt;

/** The scalar types WGSL computes with. */
export type ValueType = 'f32' | 'f16' | 'i32' | 'u32' | 'bool';

export interface DTypeInfo {
  readonly dtype: DType;
  readonly kind: 'float' | 'int' | 'bool';
  readonly bits: number;
  readonly signed: boolean;
  /** The WGSL scalar an element is computed as. */
  readonly value: ValueType;
  /** How many elements share one 32-bit storage word (1 for 32-bit types). */
  readonly lanesPerWord: number;
  /** Import-only types are rejected by kernel generation (i64 is narrowed at import; bf16 is storage only). */
  readonly storageOnly: boolean;
}

const SUB_BYTE_WIDTHS: readonly SubByteWidth[] = [1, 2, 3, 4, 5, 6, 7, 8];

/** Codes of `bits` per u32 word: floor(32 / bits), so no code straddles two words (the top 32 % bits bits unused). */
export const codesPerWord = (bits: number): number => Math.floor(32 / bits);

function subByte(signed: boolean, bits: SubByteWidth): DTypeInfo {
  // Widths that do not divide 32 (3, 5, 6, 7) still pack floor(32/bits) lanes per word so no lane straddles words.
  return {
    dtype: `${signed ? 'i' : 'u'}${bits}` as SubByteInt,
    kind: 'int',
    bits,
    signed,
    value: signed ? 'i32' : 'u32',
    lanesPerWord: codesPerWord(bits),
    storageOnly: false,
  };
}

const TABLE: ReadonlyMap<DType, DTypeInfo> = new Map<DType, DTypeInfo>([
  ['f32', { dtype: 'f32', kind: 'float', bits: 32, signed: true, value: 'f32', lanesPerWord: 1, storageOnly: false }],
  ['f16', { dtype: 'f16', kind: 'float', bits: 16, signed: true, value: 'f16', lanesPerWord: 2, storageOnly: false }],
  ['bf16', { dtype: 'bf16', kind: 'float', bits: 16, signed: true, value: 'f32', lanesPerWord: 2, storageOnly: true }],
  ['i32', { dtype: 'i32', kind: 'int', bits: 32, signed: true, value: 'i32', lanesPerWord: 1, storageOnly: false }],
  ['u32', { dtype: 'u32', kind: 'int', bits: 32, signed: false, value: 'u32', lanesPerWord: 1, storageOnly: false }],
  ['i64', { dtype: 'i64', kind: 'int', bits: 64, signed: true, value: 'i32', lanesPerWord: 1, storageOnly: true }],
  ['bool', { dtype: 'bool', kind: 'bool', bits: 32, signed: false, value: 'bool', lanesPerWord: 1, storageOnly: false }],
  ...SUB_BYTE_WIDTHS.flatMap((b) => [subByte(true, b), subByte(false, b)]).map((i) => [i.dtype, i] as const),
]);

export const ALL_DTYPES: readonly DType[] = [...TABLE.keys()];

export function isDType(s: string): s is DType {
  return TABLE.has(s as DType);
}

export function dtypeInfo(dt: DType): DTypeInfo {
  const info = TABLE.get(dt);
  if (!info) throw new Error(`unknown dtype '${dt}'`);
  return info;
}

export const isFloat = (dt: DType): boolean => dtypeInfo(dt).kind === 'float';
export const isInt = (dt: DType): boolean => dtypeInfo(dt).kind === 'int';
export const isSubByte = (dt: DType): boolean => /^[iu][1-8]$/.test(dt);

/** Smallest and largest representable integer for integer dtypes. */
export function intRange(dt: DType): [number, number] {
  const { bits, signed, kind } = dtypeInfo(dt);
  if (kind === 'bool') return [0, 1];
  if (kind !== 'int') throw new Error(`intRange of non-integer dtype ${dt}`);
  if (dt === 'i64') return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  return signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
}

// f16 and bf16 rounding (once, to nearest even, straight from the double) live with their bit encodings.
export { roundBF16, roundF16 };

/** Wrap an integer into dtype's range (two's-complement wrap-around, as GPU integer arithmetic does). */
function wrapInt(x: number, dt: DType): number {
  const { bits, signed } = dtypeInfo(dt);
  if (dt === 'i64') return Math.trunc(x);
  const span = 2 ** bits;
  let v = ((Math.trunc(x) % span) + span) % span;
  if (signed && v >= span / 2) v -= span;
  return v;
}

/**
 * Normalise a double to a value representable in dtype: the interpreter stores every element as a double and
 * calls this at each op boundary, so results carry exactly the precision the dtype has.
 */
export function roundToDType(x: number, dt: DType): number {
  switch (dt) {
    case 'f32':
      return Math.fround(x);
    case 'f16':
      return roundF16(x);
    case 'bf16':
      return roundBF16(x);
    case 'bool':
      return x !== 0 && !Number.isNaN(x) ? 1 : 0;
    default:
      if (Number.isNaN(x)) return 0;
      if (!Number.isFinite(x)) return x > 0 ? intRange(dt)[1] : intRange(dt)[0];
      return wrapInt(x, dt);
  }
}

/** Bytes a tensor of `count` elements occupies in storage (sub-byte types packed into whole u32 words). */
export function storageBytes(dt: DType, count: number): number {
  const info = dtypeInfo(dt);
  if (dt === 'i64') return count * 8;
  if (dt === 'f16' || dt === 'bf16') return count * 2;
  if (isSubByte(dt)) return Math.ceil(count / info.lanesPerWord) * 4;
  return count * 4;
}
