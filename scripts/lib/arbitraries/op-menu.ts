// The op menu of arbGraphCase: each entry reads one Choice and adds one to three nodes through a CaseBuilder.
// Entries throw OpError or Skip when the choice does not fit the values at hand; the caller skips the choice.
// Each node also states a bound on its result's magnitude (from its operands' bounds) so values stay finite
// and well inside f32 range: Div only by constants away from zero, Pow only of positive bases, Sqrt only of Abs.
import type { DType } from '../../../ir/dtype.js';
import type { Attrs } from '../../../ir/graph.js';
import { type CaseBuilder, type Val, rank, size, staticDims } from './case-builder.js';

export interface MenuEntry {
  readonly name: string;
  readonly build: (cx: CaseBuilder) => void;
}

const isF32 = (v: Val): boolean => v.type.dtype === 'f32';
const isBool = (v: Val): boolean => v.type.dtype === 'bool';
const numeric = (v: Val): boolean => v.type.dtype === 'f32' || v.type.dtype === 'i32';
const any = (): boolean => true;
const max = (bs: number[]): number => Math.max(0, ...bs);
const same = ([b]: number[]): number => b!;
const one = (): number => 1;
/** An axis in [-rank, rank) from a choice number. */
const signedAxis = (k: number, r: number): number => (k % (2 * r)) - r;

function unary(op: string, ok: (v: Val) => boolean, bound: (bs: number[]) => number, attrs: (k: number) => Attrs = () => ({})): MenuEntry {
  return { name: op, build: (cx) => void cx.node(op, [cx.first(ok)], attrs(cx.choice.k), bound) };
}

/** The second operand of a binary op: a fresh constant shaped like a suffix of a's shape, or a pool value that fits. */
function second(cx: CaseBuilder, op: string, a: Val, map?: (v: number) => number): Val {
  const { k, c, b } = cx.choice;
  if (map || k % 3 === 0) {
    const dims = staticDims(a);
    return cx.constant(a.type.dtype, dims.slice(dims.length - (c % (dims.length + 1))), map);
  }
  return cx.pick(b, (v) => cx.fits(op, [a, v]));
}

function binary(op: string, ok: (v: Val) => boolean, bound: (x: number, y: number) => number): MenuEntry {
  return {
    name: op,
    build(cx) {
      const a = cx.first(ok);
      cx.node(op, [a, second(cx, op, a)], {}, ([x, y]) => bound(x!, y!));
    },
  };
}

/** Magnitudes in [0.5, 2] (floats) or [1, 3] (ints), keeping the sign of v. */
const awayFromZero = (dtype: DType) => (v: number) =>
  (v < 0 ? -1 : 1) * (dtype === 'f32' ? (2 + (Math.abs(v) % 7)) / 4 : 1 + (Math.abs(v) % 3));

function permutation(n: number, k: number): number[] {
  const rest = Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = n; i > 0; i--) {
    out.push(rest.splice(k % i, 1)[0]!);
    k = Math.floor(k / i);
  }
  return out;
}

function reduce(op: string, bound: (b: number, count: number) => number): MenuEntry {
  return {
    name: op,
    build(cx) {
      const { k, c } = cx.choice;
      const a = cx.first(numeric);
      const dims = staticDims(a);
      const mask = k % (1 << dims.length);
      const axes = dims.flatMap((_, i) => ((mask >> i) & 1 ? [(c >> 2) % 2 ? i - dims.length : i] : []));
      const count = mask ? axes.reduce((n, i) => n * dims.at(i)!, 1) : size(a);
      const attrs: Record<string, number | number[]> = {};
      if (axes.length) attrs.axes = axes;
      if (c % 3 !== 2) attrs.keepdims = c % 3;
      cx.node(op, [a], attrs, ([b]) => bound(b!, count));
    },
  };
}

export const OP_MENU: readonly MenuEntry[] = [
  unary('Relu', numeric, same),
  unary('Neg', numeric, same),
  unary('Abs', numeric, same),
  unary('Exp', isF32, ([b]) => Math.exp(b!)),
  unary('Tanh', isF32, one),
  unary('Sigmoid', isF32, one),
  unary('Erf', isF32, one),
  unary('Gelu', isF32, same, (k): Attrs => (k % 2 ? { approximate: 'tanh' } : {})),
  unary('LeakyRelu', isF32, same, (k) => ([{}, { alpha: 0.2 }, { alpha: 0.5 }] as Attrs[])[k % 3]!),
  unary('Clip', numeric, same, (k) => ([{}, { min: -1 }, { max: 1.5 }, { min: -0.5, max: 2 }] as Attrs[])[k % 4]!),
  unary('Cast', any, (bs) => bs[0]!, (k) => ({ to: ['f32', 'i32', 'bool'][k % 3]! })),
  {
    name: 'SqrtAbs',
    build(cx) {
      const [abs] = cx.node('Abs', [cx.first(isF32)], {}, same);
      cx.node('Sqrt', [abs!], {}, ([b]) => Math.sqrt(b!));
    },
  },

  binary('Add', numeric, (x, y) => x + y),
  binary('Sub', numeric, (x, y) => x + y),
  binary('Mul', numeric, (x, y) => x * y),
  binary('Min', numeric, Math.max),
  binary('Max', numeric, Math.max),
  binary('Less', numeric, one),
  binary('Greater', numeric, one),
  binary('Equal', any, one),
  {
    name: 'Div',
    build(cx) {
      const a = cx.first(numeric);
      const d = second(cx, 'Div', a, awayFromZero(a.type.dtype));
      cx.node('Div', [a, d], {}, ([x]) => 2 * x!);
    },
  },
  {
    // Pow(positive constant, x), or Pow(Sigmoid(x), Abs(y)) which stays in [0, 1].
    name: 'Pow',
    build(cx) {
      const { k, b } = cx.choice;
      const e = cx.first(isF32);
      if (k % 2 === 0) {
        const base = second(cx, 'Pow', e, (v) => (2 + (Math.abs(v) % 7)) / 4);
        cx.node('Pow', [base, e], {}, ([, x]) => 2 ** x!);
        return;
      }
      const [s] = cx.node('Sigmoid', [e], {}, one);
      const [abs] = cx.node('Abs', [cx.pick(b, (v) => cx.fits('Pow', [s!, v]))], {}, same);
      cx.node('Pow', [s!, abs!], {}, one);
    },
  },
  {
    name: 'Where',
    build(cx) {
      const { k, a, b, c } = cx.choice;
      let cond: Val;
      if (k % 2 === 1 && cx.pool.some(isBool)) cond = cx.pick(c, isBool);
      else {
        const x = cx.first(numeric);
        [cond] = cx.node('Less', [x, cx.constant(x.type.dtype, [])], {}, one) as [Val];
      }
      const x = cx.pick(a, (v) => cx.fits('Where', [cond, v, v]));
      const y = cx.pick(b, (v) => cx.fits('Where', [cond, x, v]));
      cx.node('Where', [cond, x, y], {}, ([, bx, by]) => Math.max(bx!, by!));
    },
  },

  {
    name: 'MatMul',
    build(cx) {
      const { k, b, c } = cx.choice;
      const a = cx.first((v) => isF32(v) && rank(v) >= 1);
      const K = staticDims(a).at(-1)!;
      const w = k % 2 === 0 ? cx.constant('f32', [K, 1 + (c % 4)]) : cx.pick(b, (v) => cx.fits('MatMul', [a, v]));
      cx.node('MatMul', [a, w], {}, ([x, y]) => x! * y! * K);
    },
  },
  {
    name: 'Gemm',
    build(cx) {
      const { k, b, c } = cx.choice;
      const a = cx.first((v) => isF32(v) && rank(v) === 2);
      const [transA, transB] = [k & 1, (k >> 1) & 1];
      const [d0, d1] = staticDims(a) as [number, number];
      const K = transA ? d0 : d1;
      const N = 1 + (c % 4);
      const w = cx.constant('f32', transB ? [N, K] : [K, N]);
      const attrs: Record<string, number> = { transA, transB };
      const alpha = [1, 0.5, -1][(k >> 4) % 3]!;
      const beta = [1, 0.5][(k >> 6) % 2]!;
      if (alpha !== 1) attrs.alpha = alpha;
      if (beta !== 1) attrs.beta = beta;
      const mode = (k >> 2) % 3;
      const bias = mode === 0 ? null : mode === 1 ? cx.constant('f32', [N]) : cx.pick(b, (v) => cx.fits('Gemm', [a, w, v], attrs));
      // An omitted bias is written as an omitted optional input ('' / `_`) half the time.
      const inputs = bias === null && (c >> 2) % 2 === 0 ? [a, w] : [a, w, bias];
      cx.node('Gemm', inputs, attrs, ([x, y, z]) => Math.abs(alpha) * x! * y! * K + Math.abs(beta) * (z ?? 0));
    },
  },
  {
    name: 'Transpose',
    build(cx) {
      const a = cx.first((v) => rank(v) >= 2);
      const { k } = cx.choice;
      cx.node('Transpose', [a], k % 4 === 0 ? {} : { perm: permutation(rank(a), k >> 2) }, same);
    },
  },
  {
    name: 'Reshape',
    build(cx) {
      const a = cx.first();
      const n = size(a);
      const shapes: number[][] = [[n], [-1], [1, n], [n, 1]];
      for (let f = 2; f < n; f++) if (n % f === 0) shapes.push([f, n / f], [f, -1]);
      if (n === 1) shapes.push([]);
      cx.node('Reshape', [a], { shape: shapes[cx.choice.k % shapes.length]! }, same);
    },
  },
  {
    name: 'Concat',
    build(cx) {
      const a = cx.first((v) => rank(v) >= 1);
      const axis = signedAxis(cx.choice.k, rank(a));
      const b = cx.pick(cx.choice.b, (v) => cx.fits('Concat', [a, v], { axis }));
      cx.node('Concat', [a, b], { axis }, max);
    },
  },
  {
    name: 'Split',
    build(cx) {
      const { k, c } = cx.choice;
      const a = cx.first((v) => staticDims(v).some((d) => d >= 2));
      const dims = staticDims(a);
      const axes = dims.flatMap((d, i) => (d >= 2 ? [i] : []));
      const axis = axes[k % axes.length]!;
      const d = dims[axis]!;
      const attrs: Record<string, number | number[]> = { axis: (k >> 3) % 2 ? axis - dims.length : axis };
      if (c % 2) {
        const n = 2 + ((c >> 1) % (Math.min(d, 3) - 1));
        attrs.num_outputs = d - Math.ceil(d / n) * (n - 1) > 0 ? n : 2;
      } else {
        const first = 1 + ((c >> 1) % (d - 1));
        const rest = d - first;
        attrs.split = rest >= 2 && (c >> 3) % 2 ? [first, 1, rest - 1] : [first, rest];
      }
      cx.node('Split', [a], attrs, same);
    },
  },
  {
    name: 'Slice',
    build(cx) {
      const { k, b, c } = cx.choice;
      const a = cx.first((v) => rank(v) >= 1);
      const r = rank(a);
      const axis = k % r;
      const d = staticDims(a)[axis]!;
      const s = b % d;
      const e = s + 1 + (c % (d - s));
      const variants: Attrs[] = [
        { starts: [s], ends: [e], axes: [axis] },
        { starts: [s - d], ends: [e === d ? 1000 : e - d], axes: [axis - r] },
        { starts: [s], ends: [e], axes: [axis], steps: [2] },
        { starts: [e - 1], ends: [s === 0 ? -d - 1 : s - 1], axes: [axis], steps: [-1] },
      ];
      cx.node('Slice', [a], variants[(k >> 2) % variants.length]!, same);
    },
  },
  {
    name: 'Softmax',
    build(cx) {
      const a = cx.first((v) => isF32(v) && rank(v) >= 1);
      const { k } = cx.choice;
      cx.node('Softmax', [a], k % 5 === 0 ? {} : { axis: signedAxis(k, rank(a)) }, one);
    },
  },
  reduce('ReduceSum', (b, count) => b * count),
  reduce('ReduceMean', (b) => b),
  reduce('ReduceMax', (b) => b),
  {
    name: 'Unsqueeze',
    build(cx) {
      const a = cx.first();
      const { k, c } = cx.choice;
      const out = rank(a) + 1 + (c % 2);
      const i = k % out;
      const axes = c % 2 ? [i, (i + 1 + ((k >> 3) % (out - 1))) % out] : [i];
      cx.node('Unsqueeze', [a], { axes }, same);
    },
  },
  {
    name: 'Squeeze',
    build(cx) {
      const a = cx.first((v) => staticDims(v).includes(1));
      const ones = staticDims(a).flatMap((d, i) => (d === 1 ? [i] : []));
      const { k } = cx.choice;
      cx.node('Squeeze', [a], k % 3 === 0 ? {} : { axes: [ones[k % ones.length]!] }, same);
    },
  },
  {
    name: 'Expand',
    build(cx) {
      const a = cx.first();
      const { k, c } = cx.choice;
      const dims = staticDims(a);
      const shape = k % 2 ? [1 + (c % 3), ...dims] : dims.map((d) => (d === 1 ? 1 + (c % 3) : d));
      cx.node('Expand', [a], { shape }, same);
    },
  },
  {
    name: 'Gather',
    build(cx) {
      const a = cx.first((v) => rank(v) >= 1);
      const { k, b, c } = cx.choice;
      const axis = k % rank(a);
      const d = staticDims(a)[axis]!;
      const idx = cx.constant('i32', c % 2 ? [] : [1 + (b % 3)], (v) => Math.abs(v) % d);
      cx.node('Gather', [a, idx], axis === 0 && k % 4 === 0 ? {} : { axis }, same);
    },
  },
];
