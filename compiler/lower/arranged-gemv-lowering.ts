// Lowering of a MatMul or Gemm whose weight arrange-layout stored in GEMV panels (passes/layout/arrangement.ts):
// the arranged GEMV kernel reads the panels in place. materialize-encodings has already given every other reader
// of such a weight its decoded value, so a panel weight reaching here is always one this kernel reads; anything
// else is a compiler bug, reported naming the node. The weight is the bound value: an f16 constant when
// store-weights-f16's Cast is fused into the loads (lower/fuse-operand-casts.ts).
import { type Node, isStaticShape, layoutStorageShape, numel } from '../../ir/index.js';
import { MAX_GEMV_ROWS, convUse, gemvUse, panelOf } from '../../passes/layout/arrangement.js';
import { type ArrangedConvSpec, arrangedConvFlops, arrangedConvProblems, convArranged } from '../kernels/conv-arranged.js';
import type { ConvSpec } from '../kernels/conv.js';
import { type ArrangedGemvSpec, arrangedGemvFlops, arrangedGemvProblems, gemvArranged } from '../kernels/gemv-arranged.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import type { Epilogue } from '../kernels/matmul-epilogue.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError } from './lowering.js';

/**
 * K rows per step. 4 by default: on lavapipe 8 rows (more loads in flight) ran 4096 x 4096 f32 at 43 % of the
 * read ceiling against 81 % for 4 (bench:gemv, one run); a tuned device profile may choose otherwise.
 */
const unrollFor = (_k: number, tuned?: 4 | 8): number => tuned ?? 4;

/**
 * Activation rows per workgroup: all of a GEMV's; blocks of 8 of a longer activation (a prefill over decode
 * panels). bench:gemv's 4096 x 4096 x 128 on lavapipe, one run each: 8 rows 437-475 ms, 4 rows 445-746 ms (the
 * most variable), 6 rows 602, 12 and 16 rows 1,330-1,370 (spilled); 8 outputs per lane no faster (584-687).
 */
const tokensFor = (rows: number): number => (rows <= MAX_GEMV_ROWS ? rows : 8);

export interface ArrangedIo {
  /** The bound activation and weight (fused widening casts resolved), the node's weight operand as typed in the graph. */
  readonly x: string;
  readonly w: string;
  readonly graphWeight: string;
  readonly c?: string;
  readonly beta?: number;
  readonly alpha?: number;
  /** The value the kernel writes (the fused epilogue's output, or the node's) and the epilogue's ops and operands. */
  readonly output: string;
  readonly epilogue?: Epilogue;
  readonly operands: readonly ArgRef[];
}

/** The steps of a matmul over a panel-arranged weight; undefined when the bound weight is not arranged. */
export function arrangedGemvLowering(node: Node, cx: LoweringContext, io: ArrangedIo): Lowering | undefined {
  const wt = cx.typeOf(io.w);
  if (wt.layout.kind !== 'blocked' || wt.encoding.kind !== 'dense') return undefined;
  const fail = (why: string): never => {
    throw new LoweringError(`${node.op} %${node.outputs[0]}: weight %${io.w} is stored ${wt.layout.kind} but ${why}; run materialize-encodings`);
  };
  const use = gemvUse(node, io.graphWeight, (v) => cx.typeOf(v));
  if (!use) return fail('this node is not a GEMV the arranged kernel reads');
  const panel = panelOf(wt.layout, use.transposed);
  if (panel === undefined) return fail('its blocks are not GEMV panels for this orientation');
  const spec1 = (v: string): TensorSpec => {
    const t = cx.typeOf(v);
    if (!isStaticShape(t.shape)) return fail(`%${v} has a symbolic shape`);
    return { dtype: t.dtype, shape: [...(t.shape as number[])] };
  };
  const out = spec1(io.output);
  if (numel(out.shape) === 0) return { kind: 'steps', steps: [] };
  const fields: Omit<ArrangedGemvSpec, 'kernel' | 'target'> = {
    rows: use.rows,
    tokens: tokensFor(use.rows),
    m: use.m,
    k: use.k,
    panel,
    x: spec1(io.x),
    // The stored panels (zero padding included): inline, or a checkpoint tensor the packer lays out.
    w: { dtype: wt.dtype, shape: layoutStorageShape(wt.layout, wt.shape as number[]) },
    out,
    alpha: io.alpha ?? 1,
    ...(io.c ? { c: { ...spec1(io.c), beta: io.beta ?? 1 } } : {}),
    ...(io.epilogue?.length ? { epilogue: io.epilogue } : {}),
    unroll: unrollFor(use.k, cx.profile.tuning?.gemvUnroll),
  };
  const bad = arrangedGemvProblems(fields);
  if (bad.length) return fail(`the arranged kernel cannot take it (${bad.join('; ')})`);
  const spec: ArrangedGemvSpec = { kernel: 'gemv-arranged', target: { shaderF16: cx.target.shaderF16 }, ...fields };
  const args: ArgRef[] = [{ value: io.x }, { value: io.w }, ...(io.c ? [{ value: io.c }] : []), ...io.operands, { value: io.output }];
  return { kind: 'steps', steps: [{ kernel: cx.kernel(gemvArranged, spec), args, flops: arrangedGemvFlops(spec) }] };
}

/**
 * The steps of a Conv whose weight arrange-layout stored in panels (convUse): the arranged conv kernel. `conv` is
 * the spec the conv kernel would get, its w the logical weight. Undefined when the weight is not arranged.
 */
export function arrangedConvLowering(node: Node, cx: LoweringContext, conv: ConvSpec, args: readonly ArgRef[]): Lowering | undefined {
  const w = node.inputs[1]!;
  const wt = cx.typeOf(w);
  if (wt.layout.kind !== 'blocked' || wt.encoding.kind !== 'dense') return undefined;
  const fail = (why: string): never => {
    throw new LoweringError(`Conv %${node.outputs[0]}: weight %${w} is stored ${wt.layout.kind} but ${why}; run materialize-encodings`);
  };
  if (!convUse(node, w, (v) => cx.typeOf(v))) return fail('this node is not a convolution the arranged kernel reads');
  const panel = panelOf(wt.layout, false);
  if (panel === undefined) return fail('its blocks are not panels of filters');
  const stored = { dtype: wt.dtype, shape: layoutStorageShape(wt.layout, wt.shape as number[]) };
  // Two 16-byte words of filters per lane where the panel holds whole pairs (see CONV_TOKENS).
  const one = wt.dtype === 'f16' ? 8 : 4;
  const fields: Omit<ArrangedConvSpec, 'kernel' | 'target'> = { conv, stored, panel, tokens: CONV_TOKENS, perLane: panel % (2 * one) === 0 ? 2 * one : one };
  const bad = arrangedConvProblems(fields);
  if (bad.length) return fail(`the arranged kernel cannot take it (${bad.join('; ')})`);
  const spec: ArrangedConvSpec = { kernel: 'conv-arranged', target: { shaderF16: cx.target.shaderF16 }, ...fields };
  return { kind: 'steps', steps: [{ kernel: cx.kernel(convArranged, spec), args, flops: arrangedConvFlops(spec) }] };
}

/**
 * Output pixels per workgroup of the arranged conv, each lane owning two 16-byte words of filters: on lavapipe,
 * light SqueezeNet's convs took 138-145 ms so against 154 for 4 filters per lane, 168 for 16 pixels (spills)
 * and 165 for 4 pixels (kiln profile, one run each).
 */
const CONV_TOKENS = 8;
