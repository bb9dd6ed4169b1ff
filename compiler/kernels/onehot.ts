// OneHot: each output element (storage word, when packed) compares its coordinate along the new axis with the
// index at its other coordinates and picks values[1] (on) or values[0] (off). Float indices truncate toward
// zero and compare in f32 (NaN matches nothing); signed ones count from the end when negative (opset 11);
// unsigned ones compare as they are. Indices out of range match nothing, as ONNX specifies.
import { dtypeInfo } from '../../ir/dtype.js';
import { strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, convert, eq, lit, lt, mulConst, select, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, storeEachElement, toF32, unflatten } from './lib/index.js';

export interface OneHotSpec extends KernelSpecBase {
  readonly kernel: 'onehot';
  readonly indices: TensorSpec;
  /** [off, on]. */
  readonly values: TensorSpec;
  readonly output: TensorSpec;
  readonly axis: number;
  readonly negative: boolean;
  readonly workgroupSize: number;
}

export const oneHot: KernelGen<OneHotSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const indices = k.input('indices', spec.indices);
  const values = k.input('values', spec.values);
  const out = k.output('out', spec.output);
  const { axis } = spec;
  const depth = spec.output.shape[axis]!;
  const is = strides(spec.indices.shape);
  const info = dtypeInfo(spec.indices.dtype);
  storeEachElement(k, out, (flat) => {
    const c = unflatten(flat, spec.output.shape);
    const pos = k.let('pos', c[axis]!);
    const at = sumU32(c.filter((_, a) => a !== axis).map((ca, a) => mulConst(ca, is[a]!)));
    const v = k.let('v', indices.load(at));
    let hit: Expr;
    if (info.kind === 'float') {
      const t = k.let('t', builtin('trunc', toF32(v, indices.value)));
      const n = spec.negative ? select(lt(t, lit.f32(0)), add(t, lit.f32(depth)), t) : t;
      hit = eq(n, convert('f32', pos));
    } else if (info.signed) {
      const n = spec.negative ? select(lt(v, lit.i32(0)), add(v, lit.i32(depth)), v) : v;
      hit = eq(n, convert('i32', pos));
    } else hit = eq(v, pos);
    return select(hit, values.load(lit.u32(1)), values.load(lit.u32(0)));
  });
  return k.finish();
};
