// Random test data for kernel tests: broadcast-compatible shape sets (ragged sizes, size-1 axes, rank 0) from
// fast-check, and tensor contents from a seeded generator that mixes each dtype's edge values (0, -0, ±1,
// ±large, the integer range ends) with ordinary values. Oracles come from the interpreter (oracle()).
import fc from 'fast-check';
import { seededRandom as rng } from '../../runtime/random.js';

export { rng };
import { type Attrs, type DType, GraphBuilder, type Tensor, dtypeInfo, interpret, intRange, makeTensor, tensorType } from '../../ir/index.js';

const FLOAT_EDGES = [0, -0, 1, -1, 0.5, -2, 3, 1e4, -1e4, 6e4, -6e4, 1e30, -1e30, 3e38, -3e38, 1e-3, -7.5e-3];

export interface ValueOptions {
  /** Float values are drawn from [-range, range] (besides the edge values). */
  readonly range?: number;
  /** Probability of an edge value. */
  readonly edges?: number;
  /** Only integral float values (e.g. Pow exponents). */
  readonly integral?: boolean;
}

export function randomTensor(dtype: DType, shape: readonly number[], seed: number, opts: ValueOptions = {}): Tensor {
  const r = rng(seed);
  const info = dtypeInfo(dtype);
  const edges = opts.edges ?? 0.2;
  return makeTensor(dtype, shape, () => {
    if (info.kind === 'bool') return r() < 0.5 ? 1 : 0;
    if (info.kind === 'int') {
      const [lo, hi] = intRange(dtype);
      if (r() < edges) return [lo, hi, 0, 1, Math.max(lo, -1), lo + 1, hi - 1][Math.floor(r() * 7)]!;
      return lo + Math.floor(r() * (hi - lo + 1));
    }
    if (r() < edges) return FLOAT_EDGES[Math.floor(r() * FLOAT_EDGES.length)]!;
    const range = opts.range ?? 8;
    const v = (r() * 2 - 1) * range;
    return opts.integral ? Math.round(v) : v;
  });
}

/** An output shape with ragged dims (rank 0..4, total at most ~700; one axis may be long). */
/** An i32 scalar (a decode step's pos or len). */
export const i32Scalar = (v: number): Tensor => makeTensor('i32', [], [v]);

/** Values in [-1, 1], no special values: f32 rounding stays well inside a 1e-5 tolerance, so a failure means a wrong kernel. */
export const unitValues = (dtype: DType, shape: readonly number[], seed: number): Tensor => randomTensor(dtype, shape, seed, { edges: 0, range: 1 });

export const arbOutShape = (): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 4 }),
    fc.tuple(fc.integer({ min: 65, max: 700 })).map((s) => [...s]),
    fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 60, max: 200 })).map((s) => [...s]),
  );

/** `count` input shapes broadcasting exactly to an output shape: leading axes dropped, some axes set to 1. */
export function arbBroadcastShapes(count: number): fc.Arbitrary<{ out: number[]; ins: number[][] }> {
  return arbOutShape().chain((out) => {
    const operand = fc.record({
      drop: fc.integer({ min: 0, max: out.length }),
      ones: fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }),
    });
    return fc
      .record({ specs: fc.array(operand, { minLength: count, maxLength: count }), full: fc.integer({ min: 0, max: count - 1 }) })
      .map(({ specs, full }) => {
        const ins = specs.map(({ drop, ones }) => out.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)));
        ins[full] = [...out]; // one operand has the full shape, so the broadcast result is exactly `out`
        return { out, ins };
      });
  });
}

/** The interpreter's result for one node applied to `inputs` (built with GraphBuilder). */
export function oracle(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder('oracle');
  const names = inputs.map((t, i) => b.input(`x${i}`, tensorType(t.dtype, t.shape)));
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), Object.fromEntries(names.map((n, i) => [n, inputs[i]!])))[y]!;
}

/** First mismatching elements, for failure messages. */
export function describeMismatch(got: Tensor, want: Tensor, inputs: readonly Tensor[], limit = 6): string {
  const lines: string[] = [];
  for (let i = 0; i < want.data.length && lines.length < limit; i++) {
    const g = got.data[i]!;
    const w = want.data[i]!;
    if (Object.is(g, w) || g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    lines.push(`  [${i}] got ${g}, want ${w}`);
  }
  const shapes = inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ');
  return `inputs ${shapes} -> ${want.dtype}[${want.shape.join(',')}]\n${lines.join('\n')}`;
}
