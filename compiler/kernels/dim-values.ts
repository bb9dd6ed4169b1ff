// DimValues{values}: out[i] = values[i], each a dim evaluated from the program's dims uniform (ir/ops/dim-values.ts).
// A handful of entries at most (a shape vector), so each invocation picks its entry with a select chain. Arange,
// the symbolic-length Range, lives here too: both are values made from the run's dims.
import type { DimContext } from '../wgsl/dims.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import { type Dim, tensorType } from '../../ir/index.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, convert, eq, lit, mul, select } from '../wgsl/dsl.js';
import { storeEachElement, symbolicTensor } from './lib/index.js';

export interface DimValuesSpec extends KernelSpecBase {
  readonly kernel: 'dim-values';
  readonly values: readonly Dim[];
  readonly scalar: boolean;
  readonly dims?: DimContext;
}

export const dimValues: KernelGen<DimValuesSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, dims: spec.dims });
  if (spec.dims) k.bindDims();
  const out = k.output('y', { dtype: 'i32', shape: spec.scalar ? [] : [spec.values.length] });
  const entries = spec.values.map((v) => convert('i32', k.dim(v)));
  storeEachElement(k, out, (t) => entries.slice(0, -1).reduceRight((rest, e, i) => select(eq(t, lit.u32(i)), e, rest), entries[entries.length - 1]!));
  return k.finish();
};

export interface ArangeSpec extends KernelSpecBase {
  readonly kernel: 'arange';
  readonly count: Dim;
  readonly start: number;
  readonly delta: number;
  readonly dtype: 'i32' | 'f32';
  readonly dims?: DimContext;
}

/** Arange{start, delta, count}: out[i] = start + i * delta in the output type (ir/ops/dim-values.ts). */
export const arange: KernelGen<ArangeSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, dims: spec.dims });
  if (spec.dims) k.bindDims();
  const out = k.output('y', spec.dims ? symbolicTensor(tensorType(spec.dtype, [spec.count]), spec.dims) : { dtype: spec.dtype, shape: [spec.count as number] });
  const l = spec.dtype === 'f32' ? lit.f32 : lit.i32;
  storeEachElement(k, out, (i) => add(l(spec.start), mul(convert(spec.dtype, i), l(spec.delta))));
  return k.finish();
};
