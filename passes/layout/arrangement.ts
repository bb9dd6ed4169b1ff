// The arrangement arrange-layout gives a matmul weight, and who reads it in place. A weight A[M outputs, K] is
// stored as panels of P outputs: panel p holds, for k = 0..K-1, the P weights W[k, p*P .. p*P+P-1] contiguously,
// so one workgroup of the arranged GEMV kernel (compiler/kernels/gemv-arranged.ts) streams one contiguous range
// and its lanes, each owning 4 adjacent outputs, read neighbouring vec4s (papers.md §4: per-workgroup contiguous
// streams; perf-notes.md: lanes own adjacent outputs, no barriers). Ragged M pads the last panel with zeros.
// The existing `blocked` layout expresses this exactly, in the tensor's own orientation:
//   MatMul W[K, M]          blocked(tile=[1,P], order=col)   block (k, p) at p*K + k
//   Gemm transB W[M, K]     blocked(tile=[P,1], order=row)   block (p, k) at p*K + k
//   Conv W[M, C, ...taps]   blocked(tile=[P,1], order=row)   the same over its matrix [M, C * taps]
// all [ceil(M/P)][K][P] in storage. One predicate says which readers read that storage in place (the lowering,
// materialize-encodings and the pass all ask it), so they cannot disagree.
import { type Layout, type MatmulOperands, type Node, type TensorType, blocked, isStaticShape, matmulOperands, numel } from '../../ir/index.js';

/**
 * Activation rows up to which a matmul is a GEMV (the skinny kernels' bound); the arranged kernel reads panels
 * for more rows too, in blocks (a prefill sharing decode's weights), when the device profile says it pays.
 */
export const MAX_GEMV_ROWS = 8;

/** The panel layout of a weight of P outputs per panel; `transposed`: the tensor is [K, M] (MatMul). */
export function panelLayout(transposed: boolean, panel: number): Layout {
  return transposed ? blocked([1, panel], 'col') : blocked([panel, 1], 'row');
}

/** The panel width of a layout that is a GEMV panel arrangement for this orientation; undefined otherwise. */
export function panelOf(l: Layout, transposed: boolean): number | undefined {
  if (l.kind !== 'blocked') return undefined;
  const [a, b] = l.params.tile;
  const p = transposed ? (a === 1 && l.params.order === 'col' ? b : 0) : b === 1 && l.params.order === 'row' ? a : 0;
  // vec4 loads: every panel and every k-row of a panel starts on a 4-element boundary.
  return p >= 4 && p % 4 === 0 ? p : undefined;
}

export interface GemvUse extends MatmulOperands {
  readonly node: Node;
  /** Activation rows (the product of x's leading dims). */
  readonly rows: number;
}

/**
 * The matmul `node` reading `w` as the arranged kernel would: w is its weight (matmulOperands), x is static (any
 * number of rows), and the result is f32 (the kernel computes and stores f32).
 */
export function gemvUse(node: Node, w: string, typeOf: (v: string) => TensorType | undefined): GemvUse | undefined {
  const use = matmulOperands(node, typeOf);
  if (!use || use.w !== w || use.x === w) return undefined;
  const xt = typeOf(use.x);
  const yt = typeOf(node.outputs[0]!);
  if (!xt || !yt || !isStaticShape(xt.shape) || xt.shape.length < 1 || xt.shape[xt.shape.length - 1] !== use.k || yt.dtype !== 'f32' || !isStaticShape(yt.shape)) return undefined;
  if (node.op === 'Gemm' && xt.shape.length !== 2) return undefined;
  const rows = numel(xt.shape.slice(0, -1));
  if (rows < 1 || use.m < 1) return undefined;
  if (use.bias !== undefined && use.bias !== '' && !isStaticShape(typeOf(use.bias)?.shape ?? ['?'])) return undefined;
  return { ...use, node, rows };
}

/**
 * The Conv `node` reading `w` as the arranged kernel's implicit GEMM (compiler/kernels/conv-arranged.ts): A is the
 * weight's matrix [M filters, C * taps] (ir/layout.ts layoutMatrix), the rows are the output pixels of every
 * image. One group, static shapes, an f32 result; the weight is the second input only.
 */
export function convUse(node: Node, w: string, typeOf: (v: string) => TensorType | undefined): GemvUse | undefined {
  if (node.op !== 'Conv' || node.inputs[1] !== w || node.inputs[0] === w || node.inputs[2] === w) return undefined;
  if (Number(node.attrs.group ?? 1) !== 1) return undefined;
  const [xt, wt, yt] = [typeOf(node.inputs[0]!), typeOf(w), typeOf(node.outputs[0]!)];
  if (!xt || !wt || !yt || yt.dtype !== 'f32' || ![xt.shape, wt.shape, yt.shape].every(isStaticShape) || wt.shape.length < 3) return undefined;
  const bias = node.inputs[2];
  if (bias && !isStaticShape(typeOf(bias)?.shape ?? ['?'])) return undefined;
  const shape = wt.shape as number[];
  const out = yt.shape as number[];
  const rows = out[0]! * numel(out.slice(2));
  const m = shape[0]!;
  const k = numel(shape.slice(1));
  if (rows < 1 || m < 1 || k < 1) return undefined;
  return { x: node.inputs[0]!, w, ...(bias ? { bias } : {}), m, k, transposed: false, alpha: 1, beta: 1, node, rows };
}

/**
 * A Gather of rows of the [M, K] table `c` (axis 0): a tied embedding, whose LM head is a GEMV over the same
 * tensor. The gather kernel reads row panels in place (compiler/lower/movement-lowerings.ts): element (j, k) at
 * (j / P) * K * P + k * P + j % P, one transaction per element, which for the few rows a step gathers is nothing
 * next to the head's bytes. Column panels ([K, M] MatMul weights) are not gathered in place.
 */
export function gathersRows(reader: Node, c: string, typeOf: (v: string) => TensorType | undefined): boolean {
  if (reader.op !== 'Gather' || reader.inputs[0] !== c || reader.inputs[1] === c) return false;
  const t = typeOf(c);
  const axis = Number(reader.attrs.axis ?? 0);
  return !!t && t.shape.length === 2 && (axis === 0 || axis === -2);
}

/**
 * Every use of constant `c` by `reader` as an arranged GEMV weight: the matmul itself, or, through a Cast to f32 of
 * an f16 weight (store-weights-f16; the compiler fuses it into the matmul's loads), every matmul reading the Cast.
 * A row Gather (gathersRows) reads in place and is no GEMV use: the empty list. Undefined when the reader, or any
 * reader of its Cast, cannot read the arrangement in place.
 */
export function gemvUsesVia(
  reader: Node,
  c: string,
  typeOf: (v: string) => TensorType | undefined,
  readers: ReadonlyMap<string, readonly Node[]>,
  outputs: ReadonlySet<string>,
): GemvUse[] | undefined {
  if (reader.op === 'MatMul' || reader.op === 'Gemm') {
    const u = gemvUse(reader, c, typeOf);
    return u && [u];
  }
  if (reader.op === 'Conv') {
    const u = convUse(reader, c, typeOf);
    return u && [u];
  }
  if (gathersRows(reader, c, typeOf)) return [];
  const y = reader.outputs[0]!;
  if (reader.op !== 'Cast' || reader.attrs.to !== 'f32' || typeOf(c)?.dtype !== 'f16' || outputs.has(y)) return undefined;
  const rs = readers.get(y) ?? [];
  const uses = rs.map((n) => gemvUse(n, y, typeOf));
  return rs.length && uses.every((u) => u !== undefined) ? (uses as GemvUse[]) : undefined;
}

/** Whether `reader` reads the panel-arranged constant `c` in place (materialize-encodings decodes it otherwise). */
export function readsArrangedInPlace(
  typeOf: (v: string) => TensorType | undefined,
  readers: ReadonlyMap<string, readonly Node[]>,
  outputs: ReadonlySet<string>,
  reader: Node,
  c: string,
): boolean {
  const t = typeOf(c);
  if (!t || t.encoding.kind !== 'dense' || t.layout.kind !== 'blocked' || (t.dtype !== 'f32' && t.dtype !== 'f16')) return false;
  if (gathersRows(reader, c, typeOf)) return panelOf(t.layout, false) !== undefined;
  const uses = gemvUsesVia(reader, c, typeOf, readers, outputs);
  return !!uses && uses.every((u) => panelOf(t.layout, u.transposed) !== undefined);
}
