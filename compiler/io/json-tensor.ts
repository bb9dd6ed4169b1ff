// Tensors as JSON, for CLI inputs and `--json` outputs. Accepted input forms:
//   {"dtype": "f32", "shape": [2, 2], "data": [1, 2, 3, 4]}   explicit
//   [[1, 2], [3, 4]]                                         nested lists; dtype from the model's declaration
// Non-finite values are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them)
// and read back from the same strings.
import { type DType, type Tensor, type TensorType, formatShape, formatType, isDType, makeTensor } from '../../ir/index.js';

export class InputError extends Error {
  override name = 'InputError';
}

function toNumber(v: unknown, file: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new InputError(`${file}: ${JSON.stringify(v)} is not a number`);
}

/** Deeper nesting is not a tensor anyone means (and would exhaust the stack). */
const MAX_RANK = 32;

function flattenNested(v: unknown, file: string, depth = 0): { shape: number[]; data: number[] } {
  if (!Array.isArray(v)) return { shape: [], data: [toNumber(v, file)] };
  if (depth >= MAX_RANK) throw new InputError(`${file}: lists nested deeper than ${MAX_RANK} levels; a tensor has at most ${MAX_RANK} dims`);
  if (v.length === 0) return { shape: [0], data: [] };
  const parts = v.map((x) => flattenNested(x, file, depth + 1));
  const inner = parts[0]!.shape;
  for (const p of parts)
    if (formatShape(p.shape) !== formatShape(inner)) throw new InputError(`${file}: ragged nested list (rows of shape ${formatShape(inner)} and ${formatShape(p.shape)})`);
  return { shape: [v.length, ...inner], data: parts.flatMap((p) => p.data) };
}

/** Parse JSON text into a tensor, checked against the declared type (symbolic dims match any size). */
export function tensorFromJson(text: string, file: string, declared?: TensorType): Tensor {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  let dtype: DType | undefined = declared?.dtype;
  let shape: number[];
  let data: number[];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.dtype === 'string') {
      if (!isDType(o.dtype)) throw new InputError(`${file}: unknown dtype '${o.dtype}'`);
      dtype = o.dtype;
    }
    if (!Array.isArray(o.data)) throw new InputError(`${file}: expected a "data" list`);
    data = (o.data as unknown[]).flat(MAX_RANK).map((x) => toNumber(x, file));
    if (o.shape !== undefined && (!Array.isArray(o.shape) || o.shape.length > MAX_RANK || o.shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)))
      throw new InputError(`${file}: "shape" must be a list of at most ${MAX_RANK} non-negative integers, got ${JSON.stringify(o.shape)}`);
    shape = Array.isArray(o.shape) ? (o.shape as number[]) : [data.length];
  } else ({ shape, data } = flattenNested(value, file));
  if (!dtype) throw new InputError(`${file}: no dtype given (add "dtype") and none declared`);
  if (declared && dtype !== declared.dtype) throw new InputError(`${file}: dtype ${dtype} does not match the declared ${formatType(declared)}`);
  if (declared) {
    const ok = declared.shape.length === shape.length && declared.shape.every((d, i) => typeof d === 'string' || d === shape[i]);
    if (!ok) throw new InputError(`${file}: shape ${formatShape(shape)} does not match the declared ${formatType(declared)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new InputError(`${file}: shape ${formatShape(shape)} needs ${count} values, found ${data.length}`);
  return makeTensor(dtype, shape, data);
}

const jsonNumber = (x: number): number | string => (Number.isFinite(x) ? x : Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity');

export function tensorToJson(t: Tensor): { dtype: string; shape: number[]; data: (number | string)[] } {
  return { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data, jsonNumber) };
}
