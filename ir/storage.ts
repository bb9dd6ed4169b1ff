// A constant's stored tensor under its layout and encoding: what it must look like (storageProblems, used by the
// verifier), how it decodes to the logical tensor the ops compute with (decodeStored, used by the interpreter),
// and how a logical tensor encodes (encodeStored, used by passes that change storage). One home for all three,
// so the verifier, the interpreter and the compiler's packing cannot disagree about a format.
import { type DType, codesPerWord, isFloat } from './dtype.js';
import { type Encoding, type QuantParams, quantCodeDType, quantCodeRange, quantGroupShape, quantPlaneWords } from './encoding.js';
import { decodeTiledCsl, encodeTiledCsl, tiledCslFromBuffers, tiledCslGrid, tiledCslParamProblems, tiledCslStructureProblems, type TiledCslParams } from './formats/tiled-csl.js';
import { type Layout, fromLayout, layoutElements, layoutProblems, layoutStorageShape, toLayout } from './layout.js';
import { formatShape, numel, shapesEqual } from './shape.js';
import { type Tensor, makeTensor } from './tensor.js';
import type { TensorType } from './types.js';

/** The stored 2-D matrix of a tiled-csl tensor: [rows, cols] after its layout (a transposed [K,N] is [N,K]). */
export function storedMatrix(t: TensorType): [number, number] {
  const s = layoutStorageShape(t.layout, t.shape as number[]);
  return [s[0]!, s[1]!];
}

export const cslParams = (e: Extract<Encoding, { kind: 'tiled-csl' }>): TiledCslParams => ({ tileM: e.params.tile[0], tileK: e.params.tile[1], values: e.params.values });

/** Words of a tiled-csl tensor's offsets (they come first in its storage). */
export function cslOffsetWords(t: TensorType): number {
  const e = t.encoding as Extract<Encoding, { kind: 'tiled-csl' }>;
  const [m, k] = storedMatrix(t);
  return tiledCslGrid(m, k, cslParams(e)).tiles + 2;
}

/** dtype and shape of the stored tensor; shape undefined where it depends on the data (tiled-csl: 1-D u32). */
export function storageTypeOf(t: TensorType): { dtype: DType; shape: number[] | undefined } {
  const shape = layoutStorageShape(t.layout, t.shape as number[]);
  const e = t.encoding;
  if (e.kind === 'tiled-csl') return { dtype: 'u32', shape: undefined };
  if (e.kind === 'quant')
    return e.params.packing === 'planes'
      ? { dtype: 'u32', shape: [quantPlaneWords(e.params.bits, layoutElements(t.layout, t.shape as number[]))] }
      : { dtype: quantCodeDType(e.params), shape };
  return { dtype: t.dtype, shape };
}

/** Problems with a type's layout and encoding themselves (before any data): the verifier reports them. */
export function typeStorageProblems(t: TensorType, typeOf: (name: string) => TensorType | undefined): string[] {
  const problems = layoutProblems(t.layout, t.shape);
  const e = t.encoding;
  if (e.kind === 'tiled-csl') {
    if (t.shape.length !== 2) return [...problems, `tiled-csl needs a 2-D tensor, got rank ${t.shape.length}`];
    if (t.layout.kind === 'blocked') problems.push('tiled-csl encodes a row-major or transposed matrix, not a blocked one');
    if (!isFloat(t.dtype)) problems.push(`tiled-csl needs a float tensor, got ${t.dtype}`);
    else if (e.params.values === 'f32' && t.dtype !== 'f32') problems.push(`tiled-csl values=f32 hold more than a ${t.dtype} tensor can (use values=f16)`);
    const [m, k] = storedMatrix(t);
    problems.push(...tiledCslParamProblems(m, k, cslParams(e)).map((p) => `tiled-csl ${p.replace('tileM', 'tile[0]').replace('tileK', 'tile[1]').replace(/tileM|tileK/g, 'tile')}`));
  }
  if (e.kind === 'quant') problems.push(...quantProblems(t, e.params, typeOf));
  return problems;
}

function quantProblems(t: TensorType, p: QuantParams, typeOf: (name: string) => TensorType | undefined): string[] {
  const problems: string[] = [];
  if (!isFloat(t.dtype)) problems.push(`quant decodes to a float tensor, got ${t.dtype}`);
  if (p.axis >= t.shape.length) problems.push(`quant axis ${p.axis} is out of range for rank ${t.shape.length}`);
  // A block must start on a word boundary of the packed codes, so that a kernel can address blocks by word.
  if (t.layout.kind === 'blocked' && p.packing === 'packed' && (t.layout.params.tile[0] * t.layout.params.tile[1]) % codesPerWord(p.bits) !== 0)
    problems.push(`blocked tile [${t.layout.params.tile.join(',')}] is not a whole number of 32-bit words of ${p.bits}-bit codes (${codesPerWord(p.bits)} to a word)`);
  if (problems.length) return problems;
  const want = quantGroupShape(p, t.shape as number[]);
  const companion = (name: string, what: string, dtypes: readonly DType[]): void => {
    const c = typeOf(name);
    if (!c) return void problems.push(`quant ${what} %${name} is not a constant of the graph`);
    if (!dtypes.includes(c.dtype) || !shapesEqual(c.shape, want) || c.layout.kind !== 'row-major' || c.encoding.kind !== 'dense')
      problems.push(`quant ${what} %${name} must be ${dtypes.join(' or ')}${formatShape(want)} (one per group of ${p.group} along axis ${p.axis}), got ${c.dtype}${formatShape(c.shape)}`);
  };
  companion(p.scales, 'scales', [p.scale]);
  if (p.zeros !== undefined) companion(p.zeros, 'zeros', [quantCodeDType(p), 'f32']);
  return problems;
}

/** Problems with a stored tensor for its type (assumes typeStorageProblems found none). */
export function storageProblems(t: TensorType, value: Tensor): string[] {
  const want = storageTypeOf(t);
  if (want.shape === undefined) {
    if (value.dtype !== 'u32' || value.shape.length !== 1) return [`tiled-csl data must be a 1-D u32 tensor (offsets, then items), got ${value.dtype}${formatShape(value.shape)}`];
    const words = cslOffsetWords(t);
    if (value.shape[0]! < words) return [`tiled-csl data has ${value.shape[0]} words, fewer than its ${words} offsets`];
    return tiledCslStructureProblems(cslOf(t, value)).map((p) => `tiled-csl data: ${p}`);
  }
  if (value.dtype !== want.dtype || !shapesEqual(value.shape, want.shape)) return [`stored data is ${value.dtype}${formatShape(value.shape)} but ${want.dtype}${formatShape(want.shape)} is what the type stores`];
  return [];
}

function cslOf(t: TensorType, value: Tensor) {
  const words = cslOffsetWords(t);
  const [m, k] = storedMatrix(t);
  const u32 = Uint32Array.from(value.data);
  return tiledCslFromBuffers(m, k, cslParams(t.encoding as Extract<Encoding, { kind: 'tiled-csl' }>), u32.subarray(words), u32.subarray(0, words));
}

/** The codes of a quant tensor in storage order (planes unpacked; signed codes sign-extended). */
function storedCodes(p: QuantParams, value: Tensor, count: number): Float64Array {
  if (p.packing === 'packed') return value.data;
  const codes = new Float64Array(count);
  const words = Math.ceil(count / 32);
  for (let b = 0; b < p.bits; b++)
    for (let e = 0; e < count; e++) if ((value.data[b * words + (e >> 5)]! >>> (e & 31)) & 1) codes[e]! += 2 ** b;
  if (p.scheme === 'signed') for (let e = 0; e < count; e++) if (codes[e]! >= 2 ** (p.bits - 1)) codes[e]! -= 2 ** p.bits;
  return codes;
}

/** The logical tensor of a stored one. `valueOf` gives the (logical) values of the constants an encoding names. */
export function decodeStored(t: TensorType, value: Tensor, valueOf: (name: string) => Tensor): Tensor {
  const shape = t.shape as number[];
  const e = t.encoding;
  if (e.kind === 'dense') return t.layout.kind === 'row-major' ? value : makeTensor(t.dtype, shape, fromLayout(t.layout, shape, value.data));
  if (e.kind === 'tiled-csl') return makeTensor(t.dtype, shape, fromLayout(t.layout, shape, decodeTiledCsl(cslOf(t, value))));
  const p = e.params;
  const codes = fromLayout(t.layout, shape, storedCodes(p, value, layoutElements(t.layout, shape)));
  const scales = valueOf(p.scales).data;
  const zeros = p.zeros !== undefined ? valueOf(p.zeros).data : undefined;
  const inner = numel(shape.slice(p.axis + 1));
  const along = shape[p.axis]!;
  const groups = Math.ceil(along / p.group);
  const full = (2 ** p.bits - 1);
  return makeTensor(t.dtype, shape, (i) => {
    const outer = Math.floor(i / (inner * along));
    const g = Math.floor((Math.floor(i / inner) % along) / p.group);
    const s = (outer * groups + g) * inner + (i % inner);
    const q = codes[i]!;
    return scales[s]! * (p.scheme === 'bipolar' ? 2 * q - full : q - (zeros ? zeros[s]! : 0));
  });
}

/**
 * The stored tensor of a logical one, for layouts and for dense and tiled-csl encodings (tiled-csl values are
 * rounded to its value type). Quant codes come from a quantizer, not from here.
 */
export function encodeStored(t: TensorType, logical: Tensor): Tensor {
  const shape = t.shape as number[];
  const e = t.encoding;
  const ordered = toLayout(t.layout, shape, logical.data);
  if (e.kind === 'dense') return makeTensor(t.dtype, layoutStorageShape(t.layout, shape), ordered);
  if (e.kind === 'tiled-csl') {
    const [m, k] = storedMatrix(t);
    const csl = encodeTiledCsl(ordered, m, k, cslParams(e));
    const words = new Float64Array(csl.offsets.length + csl.items.length);
    words.set(csl.offsets);
    words.set(csl.items, csl.offsets.length);
    return makeTensor('u32', [words.length], words);
  }
  throw new Error(`encodeStored: quant codes come from a quantizer (${quantCodeRange(e.params).join('..')})`);
}

/** The logical value of a tensor type: shorthand for callers that already hold the typed constant. */
export const isPlainStorage = (t: { layout: Layout; encoding: Encoding }): boolean => t.layout.kind === 'row-major' && t.encoding.kind === 'dense';
