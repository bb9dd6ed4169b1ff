// WGSL row for BitCast (ir/ops/elementwise-bitcast.ts): the 32-bit compute scalars f32, i32 and u32 are exactly
// the storage of those dtypes, so WGSL's bitcast reinterprets them as the reference's DataView does.
import { bitcast } from '../wgsl/dsl.js';
import type { WgslRow } from './elementwise-wgsl.js';
import { computeScalar } from './lib/index.js';

const BITS32 = new Set(['f32', 'i32', 'u32']);

export const BITCAST_WGSL: Readonly<Record<string, WgslRow>> = {
  BitCast: ([x], cx) => {
    if (!BITS32.has(cx.dtype) || !BITS32.has(cx.out)) throw new Error(`BitCast from ${cx.dtype} to ${cx.out}: only f32, i32 and u32 have a WGSL bitcast`);
    return cx.dtype === cx.out ? x! : bitcast(computeScalar(cx.out), x!);
  },
};
