// MaxUnpool as three passes over a u32 "owner" scratch of the output's size, so every dtype (packed ones too)
// is written a whole word at a time and no output element is written twice:
//   clear   owner[o] = 0 for every output position;
//   scatter owner[at(I[i])] = i + 1 for every input element whose index is inside the unpooled shape (at() moves
//           the coordinates into the output when output_shape pads it);
//   gather  Y[o] = owner[o] == 0 ? 0 : X[owner[o] - 1].
// Two elements naming one position race in the scatter; either wins (see ir/ops/max-unpool.ts).
import { numel, strides } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder } from '../wgsl/build.js';
import { convert, div, eq, ge, land, lit, lt, mod, mulConst, select, sub, sumU32 } from '../wgsl/dsl.js';
import { type TensorSpec, storeEachElement } from './lib/index.js';

export interface MaxUnpoolSpec extends KernelSpecBase {
  readonly kernel: 'max-unpool';
  readonly phase: 'clear' | 'scatter' | 'gather';
  readonly input: TensorSpec;
  readonly indices: TensorSpec;
  readonly output: TensorSpec;
  /** The shape the indices address ([N, C, ...unpooled spatial]). */
  readonly unpooled: readonly number[];
  readonly workgroupSize: number;
}

const u = lit.u32;

export const maxUnpool: KernelGen<MaxUnpoolSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const count = numel(spec.output.shape);
  const ownerSpec: TensorSpec = { dtype: 'u32', shape: [count] };
  if (spec.phase === 'clear') {
    const owner = k.output('owner', ownerSpec);
    storeEachElement(k, owner, () => u(0));
  } else if (spec.phase === 'scatter') {
    const idx = k.input('indices', spec.indices);
    const owner = k.output('owner', ownerSpec);
    const total = numel(spec.input.shape);
    const i = k.globalIndex(total);
    k.if(lt(i, u(total)), () => {
      const at = k.let('at', idx.load(i));
      const limit = numel(spec.unpooled);
      k.if(land(ge(at, lit.i32(0)), lt(at, lit.i32(limit))), () => {
        const flat = k.let('flat', convert('u32', at));
        // The unpooled coordinates of `flat`, placed in the output (identical shapes need no remapping).
        const same = spec.unpooled.every((d, j) => d === spec.output.shape[j]);
        const inner = strides(spec.unpooled);
        const outer = strides(spec.output.shape);
        const dest = same ? flat : sumU32(spec.unpooled.map((d, j) => mulConst(mod(div(flat, u(inner[j]!)), u(d)), outer[j]!)));
        owner.store(dest, sumU32([i, u(1)]));
      });
    });
  } else {
    const x = k.input('x', spec.input);
    const owner = k.input('owner', ownerSpec);
    const out = k.output('y', spec.output);
    storeEachElement(k, out, (flat: Expr) => {
      const o = k.let('o', owner.load(flat));
      return select(eq(o, u(0)), lit.of(out.value, 0), x.load(sub(select(eq(o, u(0)), u(1), o), u(1))));
    });
  }
  return k.finish();
};
