// TensorScatter (the ONNX 24 KV-cache write), as a gather: each cache element (storage word, when packed) picks
// the update row that lands on it, if any, and otherwise keeps the past cache's value. Row p of batch b's cache
// takes update row i = p - w (linear) or (p - w) mod max (circular), when 0 <= i < seq, where w is
// write_indices[b] (0 when absent; seq <= max, so at most one update row lands on each cache row). Rows a
// linear write would put outside the cache are dropped (the interpreter reports them): nothing is written out
// of bounds.
import { numel, strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, convert, ge, land, lit, lt, mod, mulConst, sub, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, storeEachElement, unflatten } from './lib/index.js';

export interface TensorScatterSpec extends KernelSpecBase {
  readonly kernel: 'tensor-scatter';
  readonly cache: TensorSpec;
  readonly update: TensorSpec;
  /** i32 [batch], or absent (all zeros). */
  readonly writeIndices?: TensorSpec;
  readonly axis: number;
  readonly circular: boolean;
  readonly workgroupSize: number;
}

export const tensorScatter: KernelGen<TensorScatterSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const cache = k.input('cache', spec.cache);
  const update = k.input('update', spec.update);
  const writes = spec.writeIndices && k.input('writes', spec.writeIndices);
  const out = k.output('out', spec.cache);
  const { axis } = spec;
  const max = spec.cache.shape[axis]!;
  const seq = spec.update.shape[axis]!;
  const us = strides(spec.update.shape);
  const i32 = lit.i32;
  storeEachElement(k, out, (flat) => {
    if (numel(spec.update.shape) === 0) return cache.load(flat);
    const c = unflatten(flat, spec.cache.shape).map((e, a) => k.let(`c${a}`, e));
    const p = convert('i32', c[axis]!);
    const w = k.let('w', writes ? writes.load(c[0]!) : i32(0));
    // Circular: (p - w) mod max, kept in i32 range whatever w is (seq <= max, so one row at most lands on p).
    const wm = spec.circular ? k.let('wm', mod(add(mod(w, i32(max)), i32(max)), i32(max))) : w;
    const row = k.let('row', spec.circular ? mod(add(sub(p, wm), i32(max)), i32(max)) : sub(p, w));
    const hit = k.let('hit', land(ge(row, i32(0)), lt(row, i32(seq))));
    // Read only on a hit, where row is in 0..seq-1.
    const at = sumU32(c.map((ca, a) => mulConst(a === axis ? convert('u32', row) : ca, us[a]!)));
    const v = k.var('v', { kind: 'scalar', scalar: out.value }, cache.load(flat));
    k.if(hit, () => k.assign(v, update.load(at)));
    return v;
  });
  return k.finish();
};
