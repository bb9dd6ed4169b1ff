// Calling one op definition directly (no graph): attributes checked against the schema, inference, and the
// reference on concrete tensors. Shared by the op-family tests.
import { expect } from 'vitest';
import { AttrReader, type Attrs, type Tensor, type TensorType, checkAttrs, lookupOp, makeTensor, tensorType } from '../../ir/index.js';

export function reader(op: string, attrs: Attrs): AttrReader {
  const def = lookupOp(op)!;
  const problems = checkAttrs(def, attrs);
  if (problems.length) throw new Error(problems.join('; '));
  return new AttrReader(op, def.attrs, attrs);
}

export function infer(op: string, types: (TensorType | undefined)[], attrs: Attrs = {}): TensorType[] {
  return lookupOp(op)!.infer(types, reader(op, attrs));
}

/** Every output of the op's reference; each output's shape is checked against inference. */
export function runAll(op: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}): Tensor[] {
  const r = reader(op, attrs);
  const def = lookupOp(op)!;
  const outTypes = def.infer(inputs.map((t) => t && tensorType(t.dtype, t.shape)), r);
  const outs = def.reference(inputs, r, outTypes);
  outs.forEach((t, k) => expect(t.shape).toEqual(outTypes[k]!.shape));
  return outs;
}

export const run = (op: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}): Tensor => runAll(op, inputs, attrs)[0]!;

export const f32 = (shape: number[], values: ArrayLike<number> | ((i: number) => number)): Tensor => makeTensor('f32', shape, values);
