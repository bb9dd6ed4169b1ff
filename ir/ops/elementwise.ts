// Elementwise ops are rows in one table (elementwise-table.ts); this file is the one machinery that turns a row
// into an OpDef: arity and dtype checks, numpy broadcasting of all operands, and a reference loop that applies
// the row's float64 scalar function and rounds the result to the output dtype. Kernel generation can key off
// the same rows, so adding an elementwise op is adding a row.
import { type DType, dtypeInfo } from '../dtype.js';
import type { Node } from '../graph.js';
import { AttrReader, type AttrSpec, type OpDef, OpError, registerOp } from '../op.js';
import { broadcastShapes, numel } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { broadcastOffsets, checkInputs, staticShape } from './common.js';
import { ELEMENTWISE_OPS } from './elementwise-table.js';

export type DTypeKind = 'float' | 'int' | 'bool';

export interface ScalarContext {
  readonly attrs: AttrReader;
  /** The dtype of the data operands (for Where, of x and y; for Cast, of its input). */
  readonly dtype: DType;
}

/** A scalar function on float64 values already rounded to the input dtype; the caller rounds its result. */
export type ScalarFn = (...xs: number[]) => number;

export interface ElementwiseRow {
  readonly name: string;
  /** Exact input count, or [min, max] for variadic ops (Min, Max). Elementwise ops have no optional inputs. */
  readonly arity: number | readonly [number, number];
  /** dtype kinds the data operands may have; all data operands must share one dtype (no implicit promotion). */
  readonly kinds: readonly DTypeKind[];
  /** Operand 0 is a bool condition outside the same-dtype rule (Where). */
  readonly condition?: boolean;
  /** Output dtype: the data operands' dtype, bool (comparisons), or derived from attributes (Cast). */
  readonly out: 'same' | 'bool' | ((attrs: AttrReader) => DType);
  readonly attrs?: Readonly<Record<string, AttrSpec>>;
  /** Checks the attribute schema cannot express (enumerated strings); throws OpError. */
  readonly check?: (attrs: AttrReader) => void;
  /** Binds attributes and operand dtype once per node, returning the per-element function. */
  readonly scalar: (cx: ScalarContext) => ScalarFn;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

function inferElementwise(row: ElementwiseRow, inputs: readonly (TensorType | undefined)[], attrs: AttrReader): TensorType[] {
  const [min, max] = typeof row.arity === 'number' ? [row.arity, row.arity] : row.arity;
  checkInputs(row.name, inputs, min, max);
  const ts = inputs.map((t, i) => {
    if (!t) throw new OpError(`${row.name} needs input ${i}, which was omitted`);
    return t;
  });
  if (row.condition && ts[0]!.dtype !== 'bool') throw new OpError(`${row.name} needs a bool condition, got ${ts[0]!.dtype}`);
  const data = row.condition ? ts.slice(1) : ts;
  const dtype = data[0]!.dtype;
  if (data.some((t) => t.dtype !== dtype))
    throw new OpError(`${row.name} needs operands of one dtype, got ${data.map((t) => t.dtype).join(' and ')}`);
  if (!row.kinds.includes(dtypeInfo(dtype).kind)) {
    const kinds = row.kinds.join(' or ');
    const what = data.length === 1 ? `${article(kinds)} ${kinds} input` : `${kinds} inputs`;
    throw new OpError(`${row.name} needs ${what}, got ${dtype}`);
  }
  row.check?.(attrs);
  const outDType = row.out === 'same' ? dtype : row.out === 'bool' ? 'bool' : row.out(attrs);
  // No op-name prefix: the shapes are the whole story, and diagnostics already name the node (`%s = Add(...)`).
  const shape = broadcastShapes(ts.map((t) => t.shape));
  if (typeof shape === 'string') throw new OpError(shape);
  return [tensorType(outDType, shape)];
}

function referenceElementwise(
  row: ElementwiseRow,
  inputs: readonly (Tensor | undefined)[],
  attrs: AttrReader,
  outTypes: readonly TensorType[],
): Tensor[] {
  const ts = inputs as readonly Tensor[]; // infer() has checked that all are present
  const outType = outTypes[0]!;
  const shape = staticShape(outType);
  const fn = row.scalar({ attrs, dtype: ts[row.condition ? 1 : 0]!.dtype });
  const offs = ts.map((t) => broadcastOffsets(t.shape, shape));
  const ds = ts.map((t) => t.data);
  const n = numel(shape);
  const out = new Float64Array(n);
  // Fixed-arity loops avoid building an argument array per element; only variadic Min/Max with 4+ inputs spread.
  if (ts.length === 1) {
    const [a, oa] = [ds[0]!, offs[0]!];
    for (let i = 0; i < n; i++) out[i] = fn(a[oa[i]!]!);
  } else if (ts.length === 2) {
    const [a, b, oa, ob] = [ds[0]!, ds[1]!, offs[0]!, offs[1]!];
    for (let i = 0; i < n; i++) out[i] = fn(a[oa[i]!]!, b[ob[i]!]!);
  } else if (ts.length === 3) {
    const [a, b, c, oa, ob, oc] = [ds[0]!, ds[1]!, ds[2]!, offs[0]!, offs[1]!, offs[2]!];
    for (let i = 0; i < n; i++) out[i] = fn(a[oa[i]!]!, b[ob[i]!]!, c[oc[i]!]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = fn(...ds.map((d, k) => d[offs[k]![i]!]!));
  }
  return [makeTensor(outType.dtype, shape, out)];
}

/** The OpDef for one table row. */
export function elementwiseOp(row: ElementwiseRow): OpDef {
  const [min, max] = typeof row.arity === 'number' ? [row.arity, row.arity] : row.arity;
  return {
    name: row.name,
    inputs: { min, max },
    outputs: 1,
    attrs: row.attrs ?? {},
    infer: (inputs, attrs) => inferElementwise(row, inputs, attrs),
    reference: (inputs, attrs, outTypes) => referenceElementwise(row, inputs, attrs, outTypes),
  };
}

export function lookupElementwise(name: string): ElementwiseRow | undefined {
  return ELEMENTWISE_OPS.find((r) => r.name === name);
}

/**
 * The per-element function an elementwise node computes, its attributes bound, for operands of `dtype`; undefined
 * for any other op. Analyses that ask what a node does to one value (pruning: does it keep a zero a zero?) read
 * the op's own semantics here rather than a list of their own.
 */
export function nodeScalarFn(node: Node, dtype: DType): ScalarFn | undefined {
  const row = lookupElementwise(node.op);
  return row?.scalar({ attrs: new AttrReader(node.op, row.attrs ?? {}, node.attrs), dtype });
}

for (const row of ELEMENTWISE_OPS) registerOp(elementwiseOp(row));
