// Weights larger than one storage binding may be (128 MiB by default: lavapipe offers no more, and it is WebGPU's
// default) are split into row blocks that each fit, and their readers are rewritten over the blocks:
//   Gemm(x, W[M,K], bias, transB=1)  ->  Concat(Gemm(x, W_i, bias_i), ...) along the last axis
//   MatMul(x, W[K,M]), Gemm(x, W[K,M], bias)  ->  Gemm/MatMul(x[..., K_i], W_i) summed (bias once)
//   Gather(W[V,H], ids)              ->  sum_i Where(ids in block i, Gather(W_i, Clip(ids - start_i)), 0)
// which covers the big tensors of language models (token embeddings and the tied or untied LM head). Row blocks of
// a row-major tensor are contiguous, so a block of weights still in its checkpoint file stays there (an offset
// into it) and nothing is loaded. Other readers of an oversized tensor are refused with the sizes involved.
import {
  type ConstantDecl,
  type Graph,
  GraphBuilder,
  type TensorType,
  consumers,
  describeNode,
  makeTensor,
  matmulOperands,
  isPlainStorage,
  numel,
  storageBytes,
  tensorType,
} from '../ir/index.js';
import { PANEL_CANDIDATES } from './layout/cost.js';
import { type Pass, PassOptionError, bump, onlyKeys } from './pass.js';

/** The widest panel arrange-layout uses. */
const PANEL_ROWS = Math.max(...PANEL_CANDIDATES);

/** WebGPU's default maxStorageBufferBindingSize. */
export const DEFAULT_MAX_BINDING_BYTES = 128 * 1024 * 1024;

export class OversizedWeightError extends Error {
  override name = 'OversizedWeightError';
}

interface Block {
  readonly decl: ConstantDecl;
  readonly start: number;
  readonly rows: number;
}

function rowBlocks(c: ConstantDecl, maxBytes: number, fresh: (base: string) => string): Block[] {
  const [rows, cols] = c.type.shape as [number, number];
  const rowBytes = storageBytes(c.type.dtype, cols);
  if (rowBytes > maxBytes)
    throw new OversizedWeightError(`%${c.name}: one row of ${cols} ${c.type.dtype} values is already over the ${maxBytes.toLocaleString('en-US')}-byte storage binding limit`);
  // Whole 4-byte words per block so every block is bindable on its own.
  let per = Math.max(1, Math.floor(maxBytes / rowBytes));
  while (per > 1 && (per * rowBytes) % 4 !== 0) per--;
  // Blocks of whole panels (a multiple of 256 rows) where a block holds more: arrange-layout's panels of up to
  // 256 outputs then need no padding, so a block that fits one binding still fits once arranged.
  if (per > PANEL_ROWS) per -= per % PANEL_ROWS;
  const blocks: Block[] = [];
  for (let start = 0, i = 0; start < rows; start += per, i++) {
    const n = Math.min(per, rows - start);
    const type = tensorType(c.type.dtype, [n, cols]);
    const name = fresh(`${c.name}.rows${i}`);
    const decl: ConstantDecl = c.value
      ? { name, type, value: makeTensor(c.type.dtype, [n, cols], c.value.data.subarray(start * cols, (start + n) * cols)) }
      : { name, type, external: { ...c.external!, offset: c.external!.offset + start * cols * (c.external!.bytes / (rows * cols)), bytes: n * cols * (c.external!.bytes / (rows * cols)) } };
    blocks.push({ decl, start, rows: n });
  }
  return blocks;
}

export function splitOversizedWeights(g: Graph, maxBytes = DEFAULT_MAX_BINDING_BYTES): Graph {
  const bytesOf = (t: TensorType): number => storageBytes(t.dtype, numel(t.shape as number[]));
  const oversized = g.constants.filter((c) => c.type.shape.length === 2 && bytesOf(c.type) > maxBytes && (c.value || c.external) && isPlainStorage(c.type));
  if (!oversized.length) return g;
  const readers = consumers(g);
  // Block names are kept clear of every name the graph already uses (a constant may be called `w.rows0` already).
  const used = new Set([...g.types.keys(), ...g.constants.map((c) => c.name), ...g.nodes.flatMap((n) => n.outputs)]);
  const freshName = (base: string): string => {
    let n = base;
    for (let k = 1; used.has(n); k++) n = `${base}_${k}`;
    used.add(n);
    return n;
  };
  const split = new Map(oversized.map((c) => [c.name, rowBlocks(c, maxBytes, freshName)]));
  for (const c of oversized)
    for (const n of readers.get(c.name) ?? []) {
      const weight = matmulOperands(n, (v) => g.types.get(v))?.w === c.name && n.inputs[0] !== c.name;
      const gather = n.op === 'Gather' && n.inputs[0] === c.name && (n.attrs.axis ?? 0) === 0;
      if (!weight && !gather)
        throw new OversizedWeightError(
          `${describeNode(n)}: %${c.name} is ${bytesOf(c.type).toLocaleString('en-US')} bytes, over the ${maxBytes.toLocaleString('en-US')}-byte storage binding limit, and kiln can split it only as a Gather table (axis 0) or a MatMul/Gemm weight`,
        );
    }

  const b = GraphBuilder.fromDeclarations({ ...g, constants: g.constants.filter((c) => !split.has(c.name)) });
  for (const blocks of split.values()) for (const blk of blocks) b.declareConstant(blk.decl);
  // New values get names derived from the node they replace, kept clear of every name the graph already uses.
  const named = (base: string): { names: string[] } => ({ names: [freshName(base)] });
  const i32 = (v: number) => b.constant(makeTensor('i32', [], [v]), named(`split.start${v}`).names[0]);
  for (const node of g.nodes) {
    const blocks = split.get(node.op === 'Gather' ? node.inputs[0]! : (node.inputs[1] ?? ''));
    const out = node.outputs[0]!;
    if (!blocks || (node.op !== 'Gather' && node.op !== 'Gemm' && node.op !== 'MatMul')) {
      b.node(node.op, node.inputs, node.attrs, { names: node.outputs, ...(node.loc ? { loc: node.loc } : {}), ...(node.regions ? { regions: node.regions } : {}) });
      continue;
    }
    if (node.op === 'MatMul' || (node.op === 'Gemm' && node.attrs.transB !== 1)) {
      // W[K,M] row blocks split the contraction: each block multiplies its slice of x's last axis; partial
      // products are summed (Gemm's bias joins the first).
      const x = node.inputs[0]!;
      const parts = blocks.map((blk, i) => {
        const at = `${out}.k${blk.start}`;
        const slice = b.op('Slice', [x], { starts: [blk.start], ends: [blk.start + blk.rows], axes: [-1] }, named(`${at}.x`));
        const operands = [slice, blk.decl.name, ...(node.op === 'Gemm' && i === 0 && node.inputs[2] ? [node.inputs[2]] : [])];
        return b.op(node.op, operands, node.op === 'Gemm' ? { ...node.attrs } : {}, named(at));
      });
      let sum = parts[0]!;
      for (let i = 1; i < parts.length; i++) sum = b.op('Add', [sum, parts[i]!], {}, i === parts.length - 1 ? { names: [out] } : named(`${out}.sum${i}`));
      continue;
    }
    if (node.op === 'Gemm') {
      const bias = node.inputs[2];
      const biasDecl = bias ? g.constants.find((c) => c.name === bias && c.value && c.type.shape.length === 1) : undefined;
      if (bias && !biasDecl) throw new OversizedWeightError(`${describeNode(node)}: splitting an oversized weight needs its bias to be a constant vector`);
      const parts = blocks.map((blk) => {
        const operands = [node.inputs[0]!, blk.decl.name];
        if (biasDecl)
          operands.push(b.constant(makeTensor(biasDecl.type.dtype, [blk.rows], biasDecl.value!.data.subarray(blk.start, blk.start + blk.rows)), named(`${biasDecl.name}.rows${blk.start}`).names[0]));
        return b.op('Gemm', operands, { ...node.attrs }, named(`${out}.rows${blk.start}`));
      });
      b.op('Concat', parts, { axis: -1 }, { names: [out] });
      continue;
    }
    const ids = node.inputs[1]!;
    const zero = b.constant(makeTensor(g.types.get(node.inputs[0]!)!.dtype, [], [0]), named(`${out}.zero`).names[0]);
    const rank = g.types.get(ids)!.shape.length;
    const parts = blocks.map((blk) => {
      const at = `${out}.rows${blk.start}`;
      const local = b.op('Sub', [ids, i32(blk.start)], {}, named(`${at}.local`));
      const clamped = b.op('Clip', [local], { min: 0, max: blk.rows - 1 }, named(`${at}.index`));
      const inside = b.op('Unsqueeze', [b.op('Equal', [clamped, local], {}, named(`${at}.hit`))], { axes: [rank] }, named(`${at}.mask`));
      return b.op('Where', [inside, b.op('Gather', [blk.decl.name, clamped], { axis: 0 }, named(`${at}.rows`)), zero], {}, named(at));
    });
    let sum = parts[0]!;
    for (let i = 1; i < parts.length; i++) sum = b.op('Add', [sum, parts[i]!], {}, i === parts.length - 1 ? { names: [out] } : named(`${out}.sum${i}`));
  }
  return b.output(...g.outputs).build();
}

export interface SplitOptions {
  /** Largest tensor one storage binding may hold, bytes. */
  readonly maxBindingBytes?: number;
}

export const splitOversized: Pass<SplitOptions> = {
  name: 'split-oversized-weights',
  summary: "Split weights over the target's storage binding limit (maxStorageBufferBindingSize) into row blocks, rewriting their Gather/MatMul/Gemm readers.",
  // Gathers are exact. A contraction split over K adds partial products, each rounded to the dtype once: the error
  // grows with the number of blocks and the partials' magnitudes (cancellation), so the bound is stated for
  // unit-scale activations and weights (what the property test draws): 1e-5 (measured excess over 1e-6: 2.2e-7).
  tolerance: { kind: 'bounded', rtol: 1e-5, atol: 1e-5 },
  options(raw) {
    onlyKeys('split-oversized-weights', raw, ['maxBindingBytes']);
    const v = raw.maxBindingBytes === undefined ? undefined : Number(raw.maxBindingBytes);
    if (v !== undefined && !(Number.isInteger(v) && v >= 4)) throw new PassOptionError(`maxBindingBytes must be an integer >= 4, got ${String(raw.maxBindingBytes)}`);
    return v === undefined ? {} : { maxBindingBytes: v };
  },
  run(g, cx) {
    const max = cx.options.maxBindingBytes ?? cx.target.limits.maxStorageBufferBindingSize ?? DEFAULT_MAX_BINDING_BYTES;
    const out = splitOversizedWeights(g, max);
    if (out !== g) bump(cx, 'weights-split', g.constants.filter((c) => !out.constants.some((o) => o.name === c.name)).length);
    return out;
  },
};
