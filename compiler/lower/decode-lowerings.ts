// Lowerings of the decoding ops (ir/ops/decode.ts): Rope, CacheWrite, Attention, LastRow, Positions. Their pos
// and len operands are i32 scalar graph inputs bound as uniforms (`uniform: true`), so one artifact serves every
// step; CacheWrite updates its cache where it lies ('inplace'), the node's output sharing the cache's memory.
// Shapes are static; attributes are baked into the kernel specs.
import { type Node, isStaticShape, numel, tensorType } from '../../ir/index.js';
import type { DeviceProfile } from '../../passes/index.js';
import { attention, attentionSpec } from '../kernels/attention.js';
import { cacheWrite } from '../kernels/cache-write.js';
import { elementwise, elementwiseSpec } from '../kernels/elementwise.js';
import { lastRow } from '../kernels/last-row.js';
import type { TensorSpec } from '../kernels/lib/index.js';
import { positions } from '../kernels/positions.js';
import { rope } from '../kernels/rope.js';
import { storageLayout } from '../wgsl/accessor.js';
import { type ArgRef, type Lowering, type LoweringContext, LoweringError, type NodeLowering, type Step, attrsOf } from './lowering.js';

function tensorSpec(cx: LoweringContext, value: string): TensorSpec {
  const t = cx.typeOf(value);
  if (!isStaticShape(t.shape)) throw new LoweringError(`%${value} has symbolic shape [${t.shape.join(',')}]; this kernel needs static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

const given = (value: string | undefined): value is string => value !== undefined && value !== '';
/** A per-step scalar (pos or len): read by the kernel from the uniform buffer. */
const stepScalar = (value: string): ArgRef => ({ value, uniform: true });
const steps = (list: Step[]): Lowering => ({ kind: 'steps', steps: list });

const lowerRope: NodeLowering = (node, cx) => {
  const [x, pos] = node.inputs as [string, string];
  const input = tensorSpec(cx, x);
  if (numel(input.shape) === 0) return steps([]);
  const a = attrsOf(node);
  const rotaryDim = a.int('rotary_dim') || input.shape[2]!;
  const spec = { kernel: 'rope', target: { shaderF16: cx.target.shaderF16 }, input, theta: a.float('theta'), rotaryDim } as const;
  const rotated = (numel(input.shape) / input.shape[2]!) * rotaryDim;
  // Per rotated element: angle to f32, cos, sin, two multiplies and an add (the u32 angle reduction not counted).
  return steps([{ kernel: cx.kernel(rope, spec), args: [{ value: x }, stepScalar(pos), { value: node.outputs[0]! }], flops: 6 * rotated }]);
};

const lowerCacheWrite: NodeLowering = (node, cx) => {
  const [cache, rows, pos, len] = node.inputs as [string, string, string, string];
  // A write the attention after it does (fuse-cache-write.ts) is only the alias here.
  if (cx.writtenByAttention) return { kind: 'inplace', of: cache, steps: [] };
  const spec = { kernel: 'cache-write', target: { shaderF16: cx.target.shaderF16 }, cache: tensorSpec(cx, cache), rows: tensorSpec(cx, rows) } as const;
  const count = numel(spec.rows.shape);
  const list: Step[] = count === 0 || numel(spec.cache.shape) === 0 ? [] : [{ kernel: cx.kernel(cacheWrite, spec), args: [{ value: cache }, { value: rows }, stepScalar(pos), stepScalar(len)], flops: count }];
  return { kind: 'inplace', of: cache, steps: list };
};

/**
 * Attention writes its output directly when the dtype is stored one element per word; packed dtypes (f16 without
 * shader-f16, bf16) could share a word between two rows' workgroups, so those are computed into f32 scratch and
 * converted by a Cast step.
 */
const lowerAttention: NodeLowering = (node, cx) => {
  const [q, k, v, pos, len] = node.inputs as [string, string, string, string | undefined, string];
  const name = node.outputs[0]!;
  const out = tensorSpec(cx, name);
  const [rows, heads, dim] = out.shape as [number, number, number];
  if (numel(out.shape) === 0) return steps([]);
  const keys = cx.typeOf(k).shape[0] as number;
  const a = attrsOf(node);
  const packed = storageLayout(out.dtype, numel(out.shape), cx.target).lanes > 1;
  const wide: TensorSpec = packed ? { dtype: 'f32', shape: out.shape } : out;
  const scratch = { scratch: 'attention-f32', bytes: numel(out.shape) * 4 };
  const written: ArgRef = packed ? scratch : { value: name };
  const fold = cx.cacheFold;
  const spec = attentionSpec(
    cx.target,
    { q: tensorSpec(cx, q), k: tensorSpec(cx, k), v: tensorSpec(cx, v), output: wide },
    { scale: a.float('scale'), causal: a.bool('causal'), hasPos: given(pos) },
    attentionLanes(cx.profile),
    fold && { k: tensorSpec(cx, fold.k.rows), v: tensorSpec(cx, fold.v.rows) },
  );
  const newRows: ArgRef[] = fold ? [{ value: fold.k.rows }, { value: fold.v.rows }] : [];
  const args: ArgRef[] = [{ value: q }, { value: k }, { value: v }, ...newRows, ...(given(pos) ? [stepScalar(pos)] : []), stepScalar(len), written];
  // Counted at a full cache (every key visible; the visible count is only known at run time): a q.k dot and a
  // p*v accumulation of D multiply-adds each, plus the softmax's max, exp and sum, per (row, head, key).
  // A folded cache write copies its rows too.
  const copies = fold ? 2 * numel(cx.typeOf(fold.k.rows).shape as number[]) : 0;
  const attend: Step = { kernel: cx.kernel(attention, spec), args, flops: rows * heads * keys * (4 * dim + 5) + copies };
  if (!packed) return steps([attend]);
  const cast: Node = { op: 'Cast', inputs: [scratch.scratch], outputs: [name], attrs: { to: out.dtype } };
  const castSpec = elementwiseSpec(cast, (value) => (value === scratch.scratch ? tensorType('f32', out.shape) : cx.typeOf(value)), cx.target);
  return steps([attend, { kernel: cx.kernel(elementwise, castSpec), args: [scratch, { value: name }], flops: numel(out.shape) }]);
};

/**
 * Most lanes of an attention workgroup: 64, or 8 where a barrier costs every invocation (the profile's barrierMs:
 * a CPU adapter, whose SIMD groups take turns at each barrier). Decode attention on lavapipe, 12 heads x 131 keys
 * x D 64 (24 chained, timestamp queries): 0.49 ms at 64 lanes, 0.38 at 16, 0.32 at 8.
 */
export const attentionLanes = (p: DeviceProfile): number => (p.barrierMs ? 8 : 64);

const lowerLastRow: NodeLowering = (node, cx) => {
  const [x, len] = node.inputs as [string, string];
  const input = tensorSpec(cx, x);
  if (input.shape[0] === 0) throw new LoweringError(`%${x} has no rows; LastRow needs at least one`);
  const width = numel(input.shape.slice(1));
  if (width === 0) return steps([]);
  const spec = { kernel: 'last-row', target: { shaderF16: cx.target.shaderF16 }, input } as const;
  return steps([{ kernel: cx.kernel(lastRow, spec), args: [{ value: x }, stepScalar(len), { value: node.outputs[0]! }], flops: width }]);
};

const lowerPositions: NodeLowering = (node, cx) => {
  const count = attrsOf(node).int('count');
  if (count === 0) return steps([]);
  const spec = { kernel: 'positions', target: { shaderF16: cx.target.shaderF16 }, count } as const;
  return steps([{ kernel: cx.kernel(positions, spec), args: [stepScalar(node.inputs[0]!), { value: node.outputs[0]! }], flops: count }]);
};

export const DECODE_LOWERINGS: Record<string, NodeLowering> = {
  Rope: lowerRope,
  CacheWrite: lowerCacheWrite,
  Attention: lowerAttention,
  LastRow: lowerLastRow,
  Positions: lowerPositions,
};
