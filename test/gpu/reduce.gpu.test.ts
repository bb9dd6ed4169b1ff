// Reductions on the adapter against the interpreter, through the real compiler and runtime: every axes set of
// ranks 1-4 (negative axes, keepdims 0/1, empty axes with and without noop_with_empty_axes), ragged and long
// reduced sizes (the split path: partials in scratch, then a combine dispatch), many short rows, strided
// (column) reductions, integer reductions (exact, wrapping), f16 in and out (array<f16> and packed), NaN, empty
// axes, ArgMax ties, select_last_index and NaN, GlobalAveragePool. f32 within rtol 1e-4, atol 1e-5 (the kernels
// sum in another order than the interpreter); integers exact.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { planReduce, reduce } from '../../compiler/kernels/reduce.js';
import { type Attrs, type DType, GraphBuilder, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const F32 = { rtol: 1e-4, atol: 1e-5 };
const F16 = { rtol: 2e-3, atol: 1e-3 };
const EXACT = { rtol: 0, atol: 0 };

interface OpCase {
  readonly op: string;
  readonly attrs?: Attrs;
}

/** One graph applying each op to the same input `x` (one output per op). */
function graphOf(x: Tensor, ops: readonly OpCase[]): ReturnType<GraphBuilder['build']> {
  const b = new GraphBuilder('reduce');
  const xn = b.input('x', tensorType(x.dtype, x.shape));
  b.output(...ops.map((c) => b.op(c.op, [xn], c.attrs ?? {})));
  return b.build();
}

async function check(x: Tensor, ops: readonly OpCase[], tol = F32, opts: { shaderF16?: boolean } = {}): Promise<void> {
  await expectGpuMatchesInterpreter(graphOf(x, ops), { x }, tol, opts);
}

const REDUCE_OPS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin'] as const;
const all = (attrs: Attrs): OpCase[] => REDUCE_OPS.map((op) => ({ op, attrs }));
/** Values for sums: ordinary magnitudes (edge values like ±3e38 would overflow f32 partial sums). */
const tame = (dtype: DType, shape: readonly number[], seed: number): Tensor => randomTensor(dtype, shape, seed, { edges: 0 });

function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((a) => m & (1 << a)));
  return out;
}

describe('ReduceSum/Mean/Max/Min on the adapter', () => {
  const SHAPES = [[257], [13, 9], [5, 6, 7], [3, 5, 4, 7]];
  for (const shape of SHAPES)
    it(`every axes set of [${shape}] (keepdims alternating, some negative)`, async () => {
      const rank = shape.length;
      let seed = rank * 100;
      for (const axes of subsets(rank)) {
        seed++;
        const named = seed % 3 === 0 ? axes.map((a) => a - rank) : axes;
        // Two ops per axes set (the index math is shared; the ops differ only in how they combine).
        const ops = seed % 2 ? ['ReduceSum', 'ReduceMax'] : ['ReduceMean', 'ReduceMin'];
        await check(tame('f32', shape, seed), ops.map((op) => ({ op, attrs: { axes: named, keepdims: (seed >> 1) % 2 } })));
      }
    });

  it('empty axes: all axes, or the identity with noop_with_empty_axes', async () => {
    const x = tame('f32', [4, 33], 7);
    await check(x, [...all({}), ...all({ keepdims: 0 }), { op: 'ReduceSum', attrs: { noop_with_empty_axes: 1 } }]);
  });

  it('ragged and long rows: 1, 255, 256, 257, prime, 10000 (split) and 300000 (split)', async () => {
    for (const [k, [len, rows]] of ([[1, 5], [255, 3], [256, 2], [257, 7], [4099, 2], [10000, 3], [300000, 1]] as const).entries()) {
      const ops = k % 2 ? ['ReduceSum', 'ReduceMax'] : ['ReduceMean', 'ReduceMin'];
      await check(tame('f32', [rows, len], len), ops.map((op) => ({ op, attrs: { axes: [1], keepdims: len % 2 } })));
    }
  });

  it('many short rows and strided (column) reductions, split when long', async () => {
    await check(tame('f32', [6000, 3], 1), all({ axes: [-1] }));
    await check(tame('f32', [3, 6000], 2), all({ axes: [0] }));
    await check(tame('f32', [20000, 5], 3), all({ axes: [0], keepdims: 0 }));
    await check(tame('f32', [300, 2, 70], 4), all({ axes: [0, 2] }));
  });

  it('NaN propagates through Max and Min; Sum over infinities', async () => {
    const r = rng(9);
    const x = makeTensor('f32', [6, 300], (i) => (i % 300 === 17 * Math.floor(i / 300) ? [NaN, Infinity, -Infinity][i % 3]! : r() * 10 - 5));
    await check(x, all({ axes: [1] }));
    await check(makeTensor('f32', [2, 20000], (i) => (i === 12345 ? NaN : Math.sin(i))), all({ axes: [1] }));
  });

  it('Max of ±0 is +0 and Min is -0 whatever the order, exactly (as Math.max/Math.min), in short and split rows', async () => {
    // Rows: [-0, +0], [+0, -0], [-0, -0], [+0, +0]; then long rows of -0 with one +0 (the split path's combine).
    await check(makeTensor('f32', [4, 2], [-0, 0, 0, -0, -0, -0, 0, 0]), [{ op: 'ReduceMax', attrs: { axes: [1] } }, { op: 'ReduceMin', attrs: { axes: [1] } }], EXACT);
    const long = makeTensor('f32', [2, 20000], (i) => (i === 777 || i === 39000 ? 0 : -0));
    const longMin = makeTensor('f32', [2, 20000], (i) => (i === 777 || i === 39000 ? -0 : 0));
    await check(long, [{ op: 'ReduceMax', attrs: { axes: [1] } }], EXACT);
    await check(longMin, [{ op: 'ReduceMin', attrs: { axes: [1] } }], EXACT);
  });

  it('an empty reduced axis gives the identity (0, -inf, +inf, NaN for the mean)', async () => {
    await check(makeTensor('f32', [3, 0, 2], []), all({ axes: [1] }));
  });

  it('integers exactly: i32 wrapping sums, max, min; u32; packed i8 output', async () => {
    const ints = ['ReduceSum', 'ReduceMax', 'ReduceMin'] as const;
    const cases = (attrs: Attrs): OpCase[] => ints.map((op) => ({ op, attrs }));
    await check(randomTensor('i32', [7, 1000], 11, { edges: 0.3 }), cases({ axes: [1] }), EXACT);
    await check(randomTensor('i32', [3, 20000], 12, { edges: 0.3 }), cases({ axes: [1], keepdims: 0 }), EXACT);
    await check(randomTensor('u32', [40, 9], 13), cases({ axes: [0] }), EXACT);
    await check(randomTensor('i8', [5, 3, 130], 14), cases({ axes: [0, 2] }), EXACT);
  });

  it('f16 in and out, as array<f16> and packed two per u32', async () => {
    for (const shaderF16 of [true, false]) {
      // Even element counts: the runtime binds f16 regions at their exact byte size, which must be a multiple of 4.
      const x = randomTensor('f16', [8, 302], 21, { edges: 0, range: 2 });
      await check(x, all({ axes: [1] }), F16, { shaderF16 });
    }
  });

  it('more workgroups than one dispatch dimension holds fold into y (checked on the plan: a run needs ~10^7 elements)', () => {
    const [spec] = planReduce({ target: { shaderF16: false }, op: 'sum', input: { dtype: 'f32', shape: [600000, 300] }, axes: [1], output: { dtype: 'f32', shape: [600000] } });
    const kernel = compileKernel(reduce, spec!);
    expect(kernel.dispatch).toEqual([65535, 2, 1]); // 8 outputs per workgroup (32 lanes of 300): 75,000; those past it are idle
    expect(kernel.wgsl).toContain('wid.x + (wid.y * 65535u)');
  });

  it('an integer mean is refused with a clear message', () => {
    const x = makeTensor('i32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => compileGraph(graphOf(x, [{ op: 'ReduceMean', attrs: { axes: [1] } }]), { source: 't' })).toThrow(/ReduceMean of i32 has no WebGPU kernel/);
  });

  it('split reductions write partials through scratch (two dispatches)', () => {
    const x = tame('f32', [2, 100000], 1);
    const art = compileGraph(graphOf(x, [{ op: 'ReduceSum', attrs: { axes: [1] } }]), { source: 't' });
    const dispatches = art.manifest.entryPoints.run!.dispatches;
    expect(dispatches.length).toBe(2);
    expect(dispatches.every((d) => d.workgroups.every((n) => typeof n === 'number' && n <= 65535))).toBe(true);
    expect(dispatches[0]!.cost?.flops).toBe(200000);
  });
});

// ArgMin is its own kernel variant (not ArgMax of a negation, which wraps for unsigned ints and INT_MIN).
for (const arg of ['ArgMax', 'ArgMin'] as const)
  describe(`${arg} on the adapter`, () => {
    /** Small integral values: many ties. */
    const ties = (shape: readonly number[], seed: number): Tensor => randomTensor('f32', shape, seed, { range: 2, integral: true, edges: 0 });

    it('ties, select_last_index, keepdims and negative axes on every axis of a rank-3 tensor', async () => {
      const x = ties([6, 5, 7], 31);
      const ops: OpCase[] = [];
      for (const axis of [0, 1, -1]) for (const last of [0, 1]) ops.push({ op: arg, attrs: { axis, select_last_index: last, keepdims: (axis + last) & 1 } });
      await check(x, ops, EXACT);
    });

    it('long rows (split), short rows, columns, and NaN, which wins', async () => {
      const both = (axis: number): OpCase[] => [0, 1].map((last) => ({ op: arg, attrs: { axis, select_last_index: last } }));
      await check(ties([3, 20000], 32), both(1), EXACT);
      await check(ties([5000, 3], 33), both(1), EXACT);
      await check(ties([257, 40], 34), both(0), EXACT);
      const r = rng(35);
      const nan = makeTensor('f32', [8, 300], (i) => ((i * 7) % 13 === 0 && i % 300 > 100 ? NaN : Math.floor(r() * 3)));
      await check(nan, both(1), EXACT);
    });

    it('integer (with their extremes: INT_MIN, 0, 255, 2^32-1) and f16 inputs', async () => {
      await check(randomTensor('i32', [4, 999], 41, { edges: 0.4 }), [{ op: arg, attrs: { axis: 1, select_last_index: 1 } }], EXACT);
      await check(randomTensor('u8', [4, 300], 43, { edges: 0.4 }), [{ op: arg, attrs: { axis: 1 } }], EXACT);
      await check(randomTensor('u32', [6, 77], 44, { edges: 0.4 }), [{ op: arg, attrs: { axis: 0, select_last_index: 1 } }], EXACT);
      await check(randomTensor('f16', [4, 99], 42, { range: 2, integral: true }), [{ op: arg, attrs: { axis: 1 } }], EXACT, { shaderF16: false });
    });
  });

describe('GlobalAveragePool on the adapter', () => {
  it('averages every spatial plane (small planes, and 100x100 planes that split)', async () => {
    await check(tame('f32', [2, 3, 5, 7], 51), [{ op: 'GlobalAveragePool' }]);
    await check(tame('f32', [1, 3, 100, 100], 52), [{ op: 'GlobalAveragePool' }]);
    await check(tame('f32', [2, 300, 3], 53), [{ op: 'GlobalAveragePool' }]);
  });
});
