// Einsum: the equation parser's errors, shape inference (explicit and implicit outputs, ellipsis broadcasting,
// diagonals, symbolic dims), the ONNX examples, and properties against MatMul, the diagonal and ReduceSum.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DType,
  GraphBuilder,
  type Shape,
  type Tensor,
  type TensorType,
  interpret,
  makeTensor,
  tensorType,
  toleranceExcess,
} from '../../ir/index.js';
import { parseEinsum } from '../../ir/ops/einsum.js';

function run(equation: string, ...xs: Tensor[]): Tensor {
  const b = new GraphBuilder();
  const names = xs.map((x, i) => b.input(`x${i}`, tensorType(x.dtype, x.shape)));
  const y = b.op('Einsum', names, { equation });
  b.output(y);
  return interpret(b.build(), Object.fromEntries(xs.map((x, i) => [`x${i}`, x])))[y]!;
}

function infer(equation: string, ...shapes: Shape[]): TensorType {
  return inferTyped(equation, 'f32', ...shapes);
}

function inferTyped(equation: string, dtype: DType, ...shapes: Shape[]): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op('Einsum', shapes.map((s, i) => b.input(`x${i}`, tensorType(dtype, s))), { equation }));
}

const f32 = (shape: number[], v: ArrayLike<number> | ((i: number) => number)): Tensor => makeTensor('f32', shape, v);
const values = (t: Tensor): number[] => [...t.data];

describe('Einsum equation syntax', () => {
  it('parses terms, ellipses and whitespace', () => {
    expect(parseEinsum('bij, bjk -> bik')).toEqual({
      inputs: [
        { text: 'bij', labels: ['b', 'i', 'j'] },
        { text: 'bjk', labels: ['b', 'j', 'k'] },
      ],
      output: { text: 'bik', labels: ['b', 'i', 'k'] },
    });
    expect(parseEinsum('...ii ->...i').inputs[0]).toEqual({ text: '...ii', labels: ['i', 'i'], ellipsisAt: 0 });
    expect(parseEinsum('i...j').output).toBeUndefined();
    expect(parseEinsum('->')).toEqual({ inputs: [{ text: '', labels: [] }], output: { text: '', labels: [] } });
  });

  it('rejects malformed equations, saying why', () => {
    expect(() => parseEinsum('ij->j->i')).toThrow("Einsum: 'ij->j->i' has more than one '->'");
    expect(() => parseEinsum('i1,j')).toThrow("Einsum: unexpected character '1' in 'i1,j' (labels are letters A-Z, a-z)");
    expect(() => parseEinsum('i..j')).toThrow("Einsum: stray '.' in 'i..j' (an ellipsis is exactly '...')");
    expect(() => parseEinsum('...i...')).toThrow("Einsum: term '...i...' of '...i...' has more than one ellipsis");
    expect(() => parseEinsum('ij->ii')).toThrow("Einsum: output label 'i' appears twice in 'ij->ii'");
    expect(() => parseEinsum('ij->k')).toThrow("Einsum: output label 'k' of 'ij->k' is in no input term");
    expect(() => parseEinsum('i,j->i,j')).toThrow("Einsum: the output of 'i,j->i,j' is one term, but it has a ','");
  });
});

describe('Einsum inference', () => {
  it('explicit outputs: products, transposes, sums, diagonals', () => {
    expect(infer('ij,jk->ik', [2, 3], [3, 4]).shape).toEqual([2, 4]);
    expect(infer('ij->ji', [3, 4]).shape).toEqual([4, 3]);
    expect(infer('ij->i', [3, 4]).shape).toEqual([3]);
    expect(infer('ii->i', [5, 5]).shape).toEqual([5]);
    expect(infer('i,i', [5], [5]).shape).toEqual([]);
    expect(infer('->', []).shape).toEqual([]);
    expect(infer('ij,jk,kl->il', [2, 3], [3, 4], [4, 5]).shape).toEqual([2, 5]);
  });

  it('implicit outputs: labels used once, alphabetically, after the ellipsis dims', () => {
    expect(infer('ij,jk', [2, 3], [3, 4]).shape).toEqual([2, 4]);
    expect(infer('ba', [2, 3]).shape).toEqual([3, 2]); // 'ba' alone means transpose
    expect(infer('ii', [3, 3]).shape).toEqual([]); // trace
    expect(infer('Ba', [2, 3]).shape).toEqual([2, 3]); // uppercase sorts first (ASCII)
    expect(infer('...ij,...jk', [2, 1, 3, 4], [5, 4, 6]).shape).toEqual([2, 5, 3, 6]);
  });

  it('broadcasts ellipsis dims and keeps symbolic dims', () => {
    expect(infer('...ii->...i', [3, 5, 5]).shape).toEqual([3, 5]);
    expect(infer('...ij,...jk->...ik', [1, 2, 3], [4, 3, 5]).shape).toEqual([4, 2, 5]);
    expect(infer('...i->i', [2, 3, 4]).shape).toEqual([4]); // ellipsis dims left out of the output are summed
    expect(infer('bij,bjk->bik', ['n', 2, 3], ['n', 3, 4]).shape).toEqual(['n', 2, 4]);
    expect(inferTyped('i,i->i', 'i8', [3], [3])).toEqual(tensorType('i8', [3]));
  });

  it('names what is wrong with the operands', () => {
    expect(() => infer('ij,jk->ik', [2, 3])).toThrow("Einsum: 'ij,jk->ik' has 2 input term(s) but 1 input(s) were given");
    expect(() => infer('ij->i', [2, 3, 4])).toThrow("Einsum: input 0 [2,3,4] has rank 3, but term 'ij' names 2 dim(s)");
    expect(() => infer('...ij->i', [2])).toThrow("Einsum: input 0 [2] has rank 1, but term '...ij' names at least 2 dim(s)");
    expect(() => infer('ij,jk->ik', [2, 3], [4, 5])).toThrow("Einsum: label 'j' is 3 in input 0 but 4 in input 1");
    expect(() => infer('ii->i', [2, 3])).toThrow("Einsum: label 'i' is repeated in term 'ii' (a diagonal) over dims of different sizes 2 and 3");
    expect(() => infer('...i,...i', [2, 3], [4, 3])).toThrow("Einsum: the dims under '...' do not broadcast");
    expect(() => inferTyped('i->i', 'bool', [2])).toThrow('Einsum needs float or int inputs, got bool');
    const b = new GraphBuilder();
    const [x, y] = [b.input('x', tensorType('f32', [2])), b.input('y', tensorType('f16', [2]))];
    expect(() => b.op('Einsum', [x, y], { equation: 'i,i' })).toThrow('Einsum needs inputs of one dtype, got f32 and f16');
    expect(() => b.op('Einsum', [x], {})).toThrow("missing required attribute 'equation'");
  });
});

describe('Einsum reference', () => {
  const m = f32([2, 3], [1, 2, 3, 4, 5, 6]);

  it('ONNX examples: transpose, sum, inner product, scalar, batch matmul, batch diagonal', () => {
    expect(values(run('ij->ji', m))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(values(run('ij->i', m))).toEqual([6, 15]);
    expect(values(run('i,i', f32([3], [1, 2, 3]), f32([3], [4, 5, 6])))).toEqual([32]);
    expect(values(run('->', f32([], [5])))).toEqual([5]);
    const a = f32([2, 1, 2], [1, 2, 3, 4]);
    const b = f32([2, 2, 1], [5, 6, 7, 8]);
    expect(values(run('bij, bjk -> bik', a, b))).toEqual([1 * 5 + 2 * 6, 3 * 7 + 4 * 8]);
    const batch = f32([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values(run('...ii ->...i', batch))).toEqual([1, 4, 5, 8]);
  });

  it('trace, outer product, implicit transpose, three operands, summed ellipsis', () => {
    expect(values(run('ii', f32([3, 3], (i) => i)))).toEqual([0 + 4 + 8]);
    expect(values(run('i,j->ij', f32([2], [1, 2]), f32([3], [1, 10, 100])))).toEqual([1, 10, 100, 2, 20, 200]);
    expect(values(run('ba', m))).toEqual([1, 4, 2, 5, 3, 6]);
    const v = f32([3], [1, 1, 1]);
    expect(values(run('i,ij,j->', f32([2], [1, 2]), m, v))).toEqual([1 * 6 + 2 * 15]);
    expect(values(run('...j->j', f32([2, 2, 3], (i) => i)))).toEqual([0 + 3 + 6 + 9, 1 + 4 + 7 + 10, 2 + 5 + 8 + 11]);
  });

  it('broadcasts a size-1 ellipsis dim', () => {
    const a = f32([1, 2], [1, 2]);
    const b = f32([3, 2], [1, 1, 10, 10, 100, 100]);
    expect(values(run('...i,...i->...', a, b))).toEqual([3, 30, 300]);
  });

  it('integer einsum keeps the dtype and wraps', () => {
    const r = run('i,i->', makeTensor('i8', [2], [100, 50]), makeTensor('i8', [2], [1, 1]));
    expect(r.dtype).toBe('i8');
    expect(values(r)).toEqual([-106]);
  });
});

/** A matrix [r, c] with small integer entries. */
const arbMatrix = (r: number, c: number) => fc.array(fc.integer({ min: -9, max: 9 }), { minLength: r * c, maxLength: r * c }).map((v) => f32([r, c], v));
const dim = fc.integer({ min: 1, max: 5 });

describe('Einsum properties', () => {
  it("'ij,jk->ik' equals MatMul", () => {
    fc.assert(
      fc.property(
        fc.tuple(dim, dim, dim).chain(([m, k, n]) => fc.tuple(arbMatrix(m, k), arbMatrix(k, n))),
        ([a, b]) => {
          const g = new GraphBuilder();
          const [x, y] = [g.input('a', tensorType('f32', a.shape)), g.input('b', tensorType('f32', b.shape))];
          const e = g.op('Einsum', [x, y], { equation: 'ij,jk->ik' });
          const p = g.op('MatMul', [x, y]);
          g.output(e, p);
          const out = interpret(g.build(), { a, b });
          expect(toleranceExcess(out[e]!, out[p]!, 0, 0)).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("'ii->i' is the diagonal and 'ii' its sum", () => {
    fc.assert(
      fc.property(
        dim.chain((n) => arbMatrix(n, n)),
        (x) => {
          const n = x.shape[0]!;
          const diag = Array.from({ length: n }, (_, i) => x.data[i * n + i]!);
          expect(values(run('ii->i', x))).toEqual(diag);
          expect(values(run('ii', x))).toEqual([diag.reduce((s, v) => s + v, 0)]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("'ij->' and 'ij->j' agree with ReduceSum", () => {
    fc.assert(
      fc.property(
        fc.tuple(dim, dim).chain(([r, c]) => arbMatrix(r, c)),
        (x) => {
          const g = new GraphBuilder();
          const input = g.input('x', tensorType('f32', x.shape));
          const e = g.op('Einsum', [input], { equation: 'ij->j' });
          const s = g.op('ReduceSum', [input], { axes: [0], keepdims: 0 });
          g.output(e, s);
          const out = interpret(g.build(), { x });
          expect(values(out[e]!)).toEqual(values(out[s]!));
          expect(values(run('ij->', x))).toEqual([values(x).reduce((a, b) => a + b, 0)]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
