// Which MatMul/Gemm reads a quant-encoded weight in place (compiler/kernels/quant-gemv.ts decodes the codes in
// registers), so materialize-encodings leaves it encoded: the weight is the product's A[M, K] stored with K
// contiguous (row-major for Gemm transB, the transposed layout of a MatMul's [K, M]), its groups run along K, its
// codes are 1 to 8 bits (floor(32 / bits) per u32 word) of a signed or unsigned scheme, and K and the group are
// whole steps of the kernel (4 words of codes per row, or 1). Anything else is decoded by Materialize first.
import { type Layout, type Node, type TensorType, blocked, isStaticShape, matmulOperands } from '../../ir/index.js';
import { codesPerWord } from '../../ir/dtype.js';

export interface QuantGemvUse {
  readonly x: string;
  readonly w: string;
  readonly bias?: string;
  readonly m: number;
  readonly k: number;
  readonly bits: number;
  readonly signed: boolean;
  readonly group: number;
  /** Scales (and zeros) as [M, G] ('row') or [G, M] ('col'). */
  readonly scaleOrder: 'row' | 'col';
  readonly scales: string;
  readonly zeros?: string;
  /** u32 words of codes per row per kernel step. */
  readonly words: 1 | 4;
  /** The codes in quadLayout's order (arrange-layout): which of its two forms. */
  readonly arranged?: QuadForm;
  readonly alpha: number;
  readonly beta: number;
}

export function quantGemvUse(node: Node, c: string, typeOf: (v: string) => TensorType | undefined): QuantGemvUse | undefined {
  const t = typeOf(c);
  if (t?.encoding.kind !== 'quant') return undefined;
  const q = t.encoding.params;
  if (q.packing !== 'packed' || q.scheme === 'bipolar' || !Number.isInteger(q.bits) || q.bits < 1 || q.bits > 8) return undefined;
  const use = matmulOperands(node, typeOf);
  if (!use || use.w !== c || use.x === c) return undefined;
  const perWord = codesPerWord(q.bits);
  const arranged = t.layout.kind === 'blocked' ? quadFormOf(t.layout, use.transposed, perWord) : undefined;
  if (t.layout.kind === 'blocked' ? !arranged : use.transposed !== (t.layout.kind === 'transposed')) return undefined;
  const x = typeOf(use.x);
  if (!x || !isStaticShape(x.shape)) return undefined;
  // K's axis of the logical weight: 0 of a MatMul's [K, M], 1 of Gemm transB's [M, K].
  const kAxis = use.transposed ? 0 : 1;
  if (q.axis !== kAxis) return undefined;
  const group = q.group;
  const whole = (n: number): boolean => use.k % n === 0 && (group >= use.k || group % n === 0);
  // One-word steps read the activations as vec4s too: a multiple of 4 codes per word (not 3, 5 or 6-bit codes).
  const words = arranged ? 1 : whole(4 * perWord) ? 4 : whole(perWord) && perWord % 4 === 0 ? 1 : undefined;
  if (!words || (arranged && !(whole(perWord) && quadReadable(q.bits)))) return undefined;
  return {
    x: use.x,
    w: c,
    ...(use.bias ? { bias: use.bias } : {}),
    m: use.m,
    k: use.k,
    bits: q.bits,
    signed: q.scheme === 'signed',
    group: Math.min(group, use.k),
    scaleOrder: use.transposed ? 'col' : 'row',
    scales: q.scales,
    ...(q.zeros !== undefined ? { zeros: q.zeros } : {}),
    words,
    ...(arranged ? { arranged } : {}),
    alpha: use.alpha,
    beta: use.beta,
  };
}

/**
 * The quad layout of a weight's codes (papers.md §4, perf-notes.md: lanes that own adjacent outputs read
 * neighbouring addresses): the matrix A[M, K] cut into blocks of 4 rows x L codes (L = codes per u32 word), blocks
 * K-step-major, so the GEMV lane owning rows 4b..4b+3 reads one 16-byte block per step, next to its neighbours':
 *   Gemm transB W[M, K]   blocked(tile=[4,L], order=col)   'by-row': word r of a block holds row r's L codes
 *   MatMul W[K, M]        blocked(tile=[L,4], order=row)   'by-k': word i holds L/4 k-steps of all 4 rows
 * the same 16-byte blocks at the same places, only the codes' order inside them differs. Ragged M pads the last
 * block with zero codes.
 */
export type QuadForm = 'by-row' | 'by-k';

export function quadLayout(transposed: boolean, perWord: number): Layout {
  return transposed ? blocked([perWord, 4], 'row') : blocked([4, perWord], 'col');
}

function quadFormOf(l: Layout, transposed: boolean, perWord: number): QuadForm | undefined {
  if (l.kind !== 'blocked') return undefined;
  const want = quadLayout(transposed, perWord);
  const same = want.kind === 'blocked' && l.params.order === want.params.order && l.params.tile[0] === want.params.tile[0] && l.params.tile[1] === want.params.tile[1];
  return same ? (transposed ? 'by-k' : 'by-row') : undefined;
}

/** Code widths the quad-layout GEMV reads: a multiple of 4 codes to a word, rows as components (up to 4 bits). */
export const quadReadable = (bits: number): boolean => bits <= 4 && codesPerWord(bits) % 4 === 0;

/**
 * A Gather along axis 0 of a quant-encoded table [V, D] stored row by row with its groups along D (a quantized
 * embedding, or the tied table an LM head reads as Gemm transB): the quant gather decodes the rows it picks.
 */
export function quantGatherReadable(node: Node, c: string, typeOf: (v: string) => TensorType | undefined): boolean {
  const t = typeOf(c);
  if (node.op !== 'Gather' || node.inputs[0] !== c || node.inputs[1] === c || t?.encoding.kind !== 'quant') return false;
  const q = t.encoding.params;
  const axis = Number(node.attrs.axis ?? 0);
  const ids = typeOf(node.inputs[1]!);
  // Row-major, or the by-row quad layout of a table the LM head's GEMV reads too (rows of whole words).
  const quad = t.layout.kind === 'blocked' && quadFormOf(t.layout, false, codesPerWord(q.bits)) === 'by-row' && (t.shape[1] as number) % codesPerWord(q.bits) === 0;
  if (axis !== 0 || t.shape.length !== 2 || (t.layout.kind !== 'row-major' && !quad) || q.axis !== 1 || q.packing !== 'packed' || q.scheme === 'bipolar') return false;
  // Any width: the gather addresses codes by element (a row may start inside a word).
  if (!Number.isInteger(q.bits) || q.bits < 1 || q.bits > 8 || !ids || !isStaticShape(ids.shape)) return false;
  return ids.dtype === 'i32';
}
