// arbGraphCase: random valid, typed graphs with concrete inputs, for pass property tests (interp(pass(g)) ≈ interp(g))
// and the print/parse round trip.
//
// The arbitrary generates a *recipe*: input shapes and data, and a list of small integer records (choices). A
// deterministic interpreter (buildCase) turns each choice into a few GraphBuilder calls and skips choices that do
// not type-check (OpError) or would let values grow too large, so shrinking the recipe shrinks the graph and every
// shrunk recipe still builds. The op menu lives in op-menu.ts.
import fc from 'fast-check';
import type { DType } from '../../../ir/dtype.js';
import type { Graph } from '../../../ir/graph.js';
import { OpError } from '../../../ir/op.js';
import { type Tensor, makeTensor } from '../../../ir/tensor.js';
import { tensorType } from '../../../ir/types.js';
import { CaseBuilder, type Choice, Skip } from './case-builder.js';
import { OP_MENU } from './op-menu.js';

export interface GraphCase {
  readonly graph: Graph;
  /** A concrete tensor for every graph input, values in [-3, 3] (integers for i32, 0/1 for bool). */
  readonly inputs: Record<string, Tensor>;
}

export interface GraphCaseOptions {
  /** Most choices interpreted (default 12); some are skipped, some add two or three nodes. */
  readonly maxSteps?: number;
  /** Graph inputs, 1..maxInputs (default 3). */
  readonly maxInputs?: number;
  /** Restrict the op menu to these entries (names as in OP_MENU, e.g. 'Add', 'SqrtAbs'); default all. */
  readonly ops?: readonly string[];
}

// ### The recipe

const arbChoice: fc.Arbitrary<Choice> = fc.record({
  op: fc.nat(),
  src: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
  a: fc.nat({ max: 63 }),
  b: fc.nat({ max: 63 }),
  c: fc.nat({ max: 255 }),
  k: fc.nat({ max: 255 }),
  vals: fc.array(fc.integer({ min: -8, max: 8 }), { minLength: 1, maxLength: 6 }),
});

const arbInput = fc.record({
  dtype: fc.oneof({ weight: 6, arbitrary: fc.constant<DType>('f32') }, { weight: 1, arbitrary: fc.constant<DType>('i32') }, { weight: 1, arbitrary: fc.constant<DType>('bool') }),
  shape: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
  data: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 16 }),
});

/** What arbGraphCase generates; buildCase turns it into a GraphCase. */
export interface GraphCaseRecipe {
  readonly inputs: readonly { dtype: DType; shape: number[]; data: number[] }[];
  readonly steps: readonly Choice[];
  readonly outputs: readonly number[];
}

function inputTensor(dtype: DType, shape: readonly number[], data: readonly number[]): Tensor {
  const at = (i: number): number => data[i % data.length]!;
  if (dtype === 'bool') return makeTensor(dtype, shape, (i) => (at(i) > 0 ? 1 : 0));
  if (dtype === 'i32') return makeTensor(dtype, shape, (i) => Math.round(at(i)));
  return makeTensor(dtype, shape, at);
}

/** Interpret a recipe (deterministic; exported so a failing case can be rebuilt from its recipe). */
export function buildCase(r: GraphCaseRecipe, menuNames?: readonly string[]): GraphCase {
  const menu = menuNames ? OP_MENU.filter((m) => menuNames.includes(m.name)) : OP_MENU;
  if (menu.length === 0) throw new Error(`no op menu entry among ${menuNames?.join(', ')}`);
  const cx = new CaseBuilder(r.steps[0] ?? { op: 0, src: 0, a: 0, b: 0, c: 0, k: 0, vals: [1] });
  const inputs: Record<string, Tensor> = {};
  r.inputs.forEach((inp, i) => {
    const name = `x${i}`;
    inputs[name] = inputTensor(inp.dtype, inp.shape, inp.data);
    cx.input(name, tensorType(inp.dtype, inp.shape));
  });
  for (const ch of r.steps) {
    try {
      menu[ch.op % menu.length]!.build(cx.with(ch));
    } catch (e) {
      if (!(e instanceof OpError || e instanceof Skip)) throw e;
    }
  }
  // At least one node, so every case has something to compute.
  if (cx.produced.length === 0) cx.with({ op: 0, src: 0, a: 0, b: 0, c: 0, k: 0, vals: [1] }).node('Cast', [cx.pool[0]!], { to: 'f32' }, ([x]) => x!);
  const made = cx.produced;
  const outs = [made[made.length - 1]!.name, ...r.outputs.map((k) => made[k % made.length]!.name)];
  cx.b.output(...new Set(outs));
  return { graph: cx.b.build(), inputs };
}

/** Random valid typed graphs with matching concrete inputs (see the file comment). */
export function arbGraphCase(opts: GraphCaseOptions = {}): fc.Arbitrary<GraphCase> {
  const recipe: fc.Arbitrary<GraphCaseRecipe> = fc.record({
    inputs: fc.array(arbInput, { minLength: 1, maxLength: opts.maxInputs ?? 3 }),
    steps: fc.array(arbChoice, { minLength: 1, maxLength: opts.maxSteps ?? 12 }),
    outputs: fc.array(fc.nat({ max: 63 }), { maxLength: 3 }),
  });
  return recipe.map((r) => buildCase(r, opts.ops));
}
