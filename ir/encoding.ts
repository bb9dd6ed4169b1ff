// Encodings: how a constant's values are stored, as opposed to what they are. Only constants carry one; an op
// never sees an encoding, because the interpreter (decode.ts) and the compiler decode it first (or a kernel reads
// it natively: a Tiled-CSL weight of a MatMul).
//   dense                                      the default: one element per value, in the tensor's dtype
//   tiled-csl(tile=[r,c], values=f16|f32)      Flash-LLM's sparse format (papers.md §2.2) of the stored 2-D
//                                              matrix (after its layout), stored as one u32 tensor: the tile
//                                              offsets (tiles + 2 words) and then the items
//   quant(bits, scheme, group, axis, scale, zero, packing, scales=%s[, zeros=%z])
//                                              integer codes (papers.md §3, quant-formats.md): value =
//                                              scale * (q - zero) (signed, unsigned) or scale * (2q - (2^bits - 1))
//                                              (bipolar: each bit is ±1), one scale (and zero point) per `group`
//                                              consecutive elements along `axis`, in the constants %s and %z.
//                                              packing=packed stores codes as i<bits>/u<bits> (the codec packs
//                                              them into words); planes stores bit p of every code in plane p,
//                                              32 codes per u32 word, plane after plane.
import type { DType } from './dtype.js';
import { formatName } from './names.js';

export type QuantScheme = 'signed' | 'unsigned' | 'bipolar';

export interface QuantParams {
  readonly bits: number;
  readonly scheme: QuantScheme;
  readonly group: number;
  readonly axis: number;
  readonly scale: 'f16' | 'f32';
  readonly zero: 'none' | 'per-group';
  readonly packing: 'planes' | 'packed';
  /** The constant holding the scales. */
  readonly scales: string;
  /** The constant holding the zero points (zero = per-group only). */
  readonly zeros?: string;
}

export type Encoding =
  | { readonly kind: 'dense'; readonly params: Readonly<Record<string, never>> }
  | { readonly kind: 'tiled-csl'; readonly params: { readonly tile: readonly [number, number]; readonly values: 'f16' | 'f32' } }
  | { readonly kind: 'quant'; readonly params: QuantParams };

export type EncodingKind = Encoding['kind'];
export const ENCODING_KINDS: readonly EncodingKind[] = ['dense', 'tiled-csl', 'quant'];

export const DENSE: Encoding = Object.freeze({ kind: 'dense', params: Object.freeze({}) });
export const tiledCslEncoding = (tile: readonly [number, number], values: 'f16' | 'f32'): Encoding => ({ kind: 'tiled-csl', params: { tile: [tile[0], tile[1]], values } });
export const quantEncoding = (p: QuantParams): Encoding => ({ kind: 'quant', params: { ...p } });

const refText = (name: string): string => `%${formatName(name)}`;

export function formatEncoding(e: Encoding): string {
  if (e.kind === 'tiled-csl') return `tiled-csl(tile=[${e.params.tile.join(',')}],values=${e.params.values})`;
  if (e.kind === 'quant') {
    const p = e.params;
    const parts = [`axis=${p.axis}`, `bits=${p.bits}`, `group=${p.group}`, `packing=${p.packing}`, `scale=${p.scale}`, `scales=${refText(p.scales)}`, `scheme=${p.scheme}`, `zero=${p.zero}`];
    if (p.zeros !== undefined) parts.push(`zeros=${refText(p.zeros)}`);
    return `quant(${parts.join(',')})`;
  }
  return 'dense';
}

/** The values other than the constant itself that its encoding reads (a quant encoding's scales and zeros). */
export function encodingRefs(e: Encoding): string[] {
  if (e.kind !== 'quant') return [];
  return e.params.zeros !== undefined ? [e.params.scales, e.params.zeros] : [e.params.scales];
}

/** The same encoding with its references renamed (for passes that rename values). */
export function renameEncodingRefs(e: Encoding, rename: (name: string) => string): Encoding {
  if (e.kind !== 'quant') return e;
  const { zeros, ...rest } = e.params;
  return quantEncoding({ ...rest, scales: rename(e.params.scales), ...(zeros !== undefined ? { zeros: rename(zeros) } : {}) });
}

/** A quant encoding's code dtype: i<bits> for signed, u<bits> otherwise. */
export const quantCodeDType = (p: Pick<QuantParams, 'bits' | 'scheme'>): DType => `${p.scheme === 'signed' ? 'i' : 'u'}${p.bits}` as DType;

/** Code range of a quant encoding. */
export function quantCodeRange(p: Pick<QuantParams, 'bits' | 'scheme'>): [number, number] {
  return p.scheme === 'signed' ? [-(2 ** (p.bits - 1)), 2 ** (p.bits - 1) - 1] : [0, 2 ** p.bits - 1];
}

/** The shape of a quant encoding's scales (and zeros): the tensor's, with `axis` cut into groups. */
export function quantGroupShape(p: Pick<QuantParams, 'axis' | 'group'>, shape: readonly number[]): number[] {
  return shape.map((d, i) => (i === p.axis ? Math.ceil(d / p.group) : d));
}

/** u32 words of a planes-packed code tensor of `count` codes. */
export const quantPlaneWords = (bits: number, count: number): number => bits * Math.ceil(count / 32);
