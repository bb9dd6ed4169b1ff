// Random networks for the structured-pruning properties (papers.md §1.7): a residual stream of width D through
// blocks that look like what exporters emit: an MLP with a bias and an activation, a gated (SwiGLU-like) MLP whose
// two branches meet in a Mul, two branches concatenated along the channels, an affine (BatchNorm-like) pair of
// per-channel constants, and a closing head that is a graph output. Weights come from a seeded generator and are
// never zero, so the only zero channels are the planted ones.
import { type Graph, GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';

export type BlockKind = 'mlp' | 'gated' | 'concat' | 'affine';
export type Activation = 'Relu' | 'Gelu' | 'Tanh' | 'Sigmoid';

export interface BlockSpec {
  readonly kind: BlockKind;
  readonly hidden: number;
  readonly act: Activation;
  /** Hidden channels to zero (weight column, bias entry; for 'gated' the gate's, for 'concat' over both branches). */
  readonly zero: readonly number[];
}

export interface NetSpec {
  readonly rows: number;
  readonly width: number;
  readonly blocks: readonly BlockSpec[];
  readonly seed: number;
}

/** Hidden channels a block exposes to pruning ('concat': both branches, hidden each). */
export const blockChannels = (b: BlockSpec): number => (b.kind === 'concat' ? 2 * b.hidden : b.hidden);

/** Values in ±[0.25, 1), never zero. */
function values(seed: number): (n: number) => number[] {
  let s = seed >>> 0 || 1;
  return (n) =>
    Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const u = s / 2 ** 32;
      return (u < 0.5 ? -1 : 1) * (0.25 + 1.5 * Math.abs(u - 0.5));
    });
}

export function buildNet(spec: NetSpec): Graph {
  const b = new GraphBuilder('net');
  const rand = values(spec.seed);
  const D = spec.width;
  /** A weight [k, m] (MatMul's layout) whose listed columns are zero. */
  const weight = (k: number, m: number, zero: readonly number[] = [], name?: string): string =>
    b.constant(makeTensor('f32', [k, m], rand(k * m).map((v, i) => (zero.includes(i % m) ? 0 : v))), name);
  const vector = (m: number, zero: readonly number[] = []): string => b.constant(makeTensor('f32', [m], rand(m).map((v, i) => (zero.includes(i) ? 0 : v))));
  const linear = (x: string, k: number, m: number, zero: readonly number[] = [], name?: string): string =>
    b.op('Add', [b.op('MatMul', [x, weight(k, m, zero, name)]), vector(m, zero)]);
  let x = b.input('x', tensorType('f32', [spec.rows, D]));
  x = linear(x, D, D); // the input itself cannot be sliced; the stream starts at a stem
  for (const [i, blk] of spec.blocks.entries()) {
    const H = blk.hidden;
    let y: string;
    // The block's first stem is named hidden<i> (pruning tests restrict the pass to these groups by name).
    if (blk.kind === 'mlp') y = linear(b.op(blk.act, [linear(x, D, H, blk.zero, `hidden${i}`)]), H, D);
    else if (blk.kind === 'gated') {
      const gate = b.op(blk.act, [b.op('MatMul', [x, weight(D, H, blk.zero)])]);
      y = b.op('MatMul', [b.op('Mul', [gate, b.op('MatMul', [x, weight(D, H)])]), weight(H, D)]);
    } else if (blk.kind === 'concat') {
      const left = b.op(blk.act, [linear(x, D, H, blk.zero.filter((c) => c < H))]);
      const right = b.op(blk.act, [linear(x, D, H, blk.zero.filter((c) => c >= H).map((c) => c - H))]);
      y = linear(b.op('Concat', [left, right], { axis: 1 }), 2 * H, D);
    } else {
      const h = b.op('Add', [b.op('Mul', [linear(x, D, H, blk.zero), vector(H)]), vector(H, blk.zero)]);
      y = linear(b.op(blk.act, [h]), H, D);
    }
    x = b.op('Add', [x, y]);
  }
  return b.output(b.op('MatMul', [x, weight(D, 3)], {}, { names: ['logits'] })).build();
}

/** Float elements of all constants (the parameter count). */
export const parameters = (g: Graph): number => g.constants.reduce((n, c) => n + (c.value?.data.length ?? 0), 0);
