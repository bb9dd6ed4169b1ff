// ONNX ops whose output size depends on data, which kiln (static shapes) compiles only when that data is known at
// import time: Compress with a known condition becomes a Gather of the kept positions; NonZero and Unique of a
// known input are folded into constants. EyeLike depends only on its input's (static) shape and dtype, so it is
// folded too. Anything else is refused, naming the input that would have to be known.
import { type DType, isDType } from '../../../dtype.js';
import { forEachCoord } from '../../../ops/shape-util.js';
import { isStaticShape, numel } from '../../../shape.js';
import { type Tensor, makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { constantDType, onnxDTypeName } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

const i64 = (shape: readonly number[], values: ArrayLike<number>): Tensor => makeTensor('i64', shape, values);

/** Input i's value, or a refusal saying the output size would depend on it. */
function known(cx: NodeContext, i: number, what: string): Tensor {
  return (
    cx.constant(i) ??
    unsupported(
      'dynamic',
      `${cx.op}'s output size depends on the data: its ${what} '${cx.input(i)}' is computed at run time, and kiln compiles static shapes (make it a constant or give its value with the importer's inputValues option)`,
      cx.input(i),
    )
  );
}

/** Compress (9-10: axis >= 0; 11+: negative counts from the end): the positions kept, gathered. */
function compress(cx: NodeContext, negativeAxis: boolean): void {
  const condition = known(cx, 1, 'condition');
  if (condition.shape.length !== 1) invalid(`Compress condition must be 1-D, got [${condition.shape.join(',')}]`);
  const x = cx.type(0);
  const given = cx.attrs.int('axis');
  let data = cx.input(0);
  let axis = 0;
  if (given === undefined) {
    if (!isStaticShape(x.shape)) unsupported('dynamic', `Compress without axis flattens '${cx.input(0)}' [${x.shape.join(',')}], which needs a static shape`);
    data = cx.emit1('Reshape', [data], { shape: [numel(x.shape as number[])] });
  } else {
    axis = given < 0 && negativeAxis ? given + x.shape.length : given;
    if (axis < 0 || axis >= x.shape.length) invalid(`Compress axis ${given} is out of range for rank ${x.shape.length}`);
  }
  const len = given === undefined ? numel(x.shape as number[]) : x.shape[axis]!;
  const kept = [...condition.data.keys()].filter((i) => condition.data[i] !== 0);
  const past = kept.find((i) => typeof len !== 'number' || i >= len);
  if (past !== undefined) invalid(`Compress condition keeps position ${past}, past the ${len} elements along the axis`);
  cx.emitOutputs('Gather', [data, cx.newConst(i64([kept.length], kept), 'kept')], { axis });
}

/** EyeLike: ones on diagonal k of a 2-D shape, in `dtype` (default: the input's). */
function eyeLike(cx: NodeContext): void {
  const x = cx.type(0);
  if (x.shape.length !== 2) invalid(`EyeLike needs a 2-D input, got [${x.shape.join(',')}]`);
  if (!isStaticShape(x.shape)) return unsupported('dynamic', `EyeLike of '${cx.input(0)}' [${x.shape.join(',')}] needs a static shape`);
  const code = cx.attrs.int('dtype');
  const dtype: DType = code === undefined ? x.dtype : (constantDType(code, `EyeLike dtype ${onnxDTypeName(code)}`) as DType);
  if (!isDType(dtype)) invalid(`EyeLike dtype ${code} is not a tensor type`);
  const [rows, cols] = x.shape as [number, number];
  const k = cx.attrs.int('k', 0);
  cx.setConst(0, makeTensor(dtype, [rows, cols], (i) => (i % cols) - Math.floor(i / cols) === k ? 1 : 0));
}

/** NonZero: the coordinates of the non-zero elements, [rank, count], in row-major order. */
function nonZero(cx: NodeContext): void {
  const x = known(cx, 0, 'input');
  const shape = x.shape.length ? x.shape : [1]; // numpy treats a scalar as one element
  const coords: number[][] = [];
  forEachCoord(shape, (c, k) => {
    if (x.data[k] !== 0) coords.push([...c]);
  });
  cx.setConst(0, i64([shape.length, coords.length], shape.flatMap((_, d) => coords.map((c) => c[d]!))));
}

/** Order of two items (slices, compared element by element) as numpy sorts them: NaN last. */
function compareItems(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (Number.isNaN(x)) return 1;
    if (Number.isNaN(y)) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Unique (11): the distinct elements (or, with axis, distinct slices along it), sorted or in order of first
 * appearance, with each one's first index, each input item's position among them, and their counts.
 */
function unique(cx: NodeContext): void {
  const x = known(cx, 0, 'input');
  const given = cx.attrs.int('axis');
  const sorted = cx.attrs.int('sorted', 1) !== 0;
  const axis = given === undefined ? undefined : given < 0 ? given + x.shape.length : given;
  if (axis !== undefined && (axis < 0 || axis >= x.shape.length)) invalid(`Unique axis ${given} is out of range for rank ${x.shape.length}`);
  const len = axis === undefined ? x.data.length : x.shape[axis]!;
  const outer = axis === undefined ? 1 : numel(x.shape.slice(0, axis));
  const inner = axis === undefined ? 1 : numel(x.shape.slice(axis + 1));
  // Item i: element i of the flattened input, or the slice at position i along the axis (row-major).
  const items = Array.from({ length: len }, (_, i) => {
    const item: number[] = [];
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) item.push(x.data[(o * len + i) * inner + j]!);
    return item;
  });
  const groups: { first: number; count: number }[] = [];
  const byKey = new Map<string, number>();
  // Items are equal when compareItems says so: -0 equals 0 and NaN equals NaN.
  const key = (item: readonly number[]): string => item.map((v) => (v === 0 ? '0' : String(v))).join(',');
  const groupOf = items.map((item, i) => {
    let g = byKey.get(key(item));
    if (g === undefined) byKey.set(key(item), (g = groups.push({ first: i, count: 0 }) - 1));
    groups[g]!.count++;
    return g;
  });
  const order = groups.map((_, g) => g);
  if (sorted) order.sort((a, b) => compareItems(items[groups[a]!.first]!, items[groups[b]!.first]!));
  const rank = new Array<number>(groups.length);
  order.forEach((g, r) => (rank[g] = r));
  const n = order.length;
  const yShape = axis === undefined ? [n] : x.shape.map((d, a) => (a === axis ? n : d));
  const y = new Float64Array(outer * n * inner);
  order.forEach((g, r) => {
    const item = items[groups[g]!.first]!;
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) y[(o * n + r) * inner + j] = item[o * inner + j]!;
  });
  cx.setConst(0, makeTensor(x.dtype, yShape, y));
  cx.setConst(1, i64([n], order.map((g) => groups[g]!.first)));
  cx.setConst(2, i64([len], groupOf.map((g) => rank[g]!)));
  cx.setConst(3, i64([n], order.map((g) => groups[g]!.count)));
}

export const FOLD_RULES: OpRule[] = [
  ...rules('Compress', [9, 10, (cx) => compress(cx, false)], [11, undefined, (cx) => compress(cx, true)]),
  ...rules('EyeLike', [9, undefined, eyeLike]),
  ...rules('NonZero', [9, undefined, nonZero]),
  ...rules('Unique', [11, undefined, unique]),
];
