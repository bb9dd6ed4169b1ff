// Einsum on the adapter against the interpreter, through the real compiler and runtime. Contractions must lower
// to one strided matmul kernel (checked on the lowering), everything else to the generic reduction kernel:
// transposes, diagonals, sums within one operand, three operands, ellipsis broadcasting, implicit outputs.
import { describe, expect, it } from 'vitest';
import { einsumLowering } from '../../compiler/kernels/einsum.js';
import { type DType, GraphBuilder, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

let seed = 500;

async function check(equation: string, shapes: readonly (readonly number[])[], expectKind: 'matmul' | 'generic', dtype: DType = 'f32'): Promise<void> {
  const b = new GraphBuilder('einsum');
  const inputs: Record<string, Tensor> = {};
  const names = shapes.map((shape, i) => {
    const name = b.input(`x${i}`, tensorType(dtype, shape));
    // i32 products stay small so the interpreter's float64 sums are exact.
    const r = rng(seed++);
    inputs[name] = dtype === 'i32' ? makeTensor(dtype, shape, () => Math.floor(r() * 201) - 100) : randomTensor(dtype, shape, seed++, dtype === 'f32' ? { range: 1, edges: 0 } : { edges: 0 });
    return name;
  });
  const y = b.op('Einsum', names, { equation });
  b.output(y);
  const g = b.build();
  const out = g.types.get(y)!;
  const lowered = einsumLowering({ shaderF16: false }, equation, shapes.map((shape) => ({ dtype, shape })), { dtype, shape: out.shape as number[] });
  expect(lowered.kind).toBe(expectKind);
  await expectGpuMatchesInterpreter(g, inputs, dtype === 'f32' ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 0, atol: 0 });
}

describe('Einsum as a strided matmul', () => {
  it('ij,jk->ik and its transposed forms', async () => {
    await check('ij,jk->ik', [[33, 20], [20, 37]], 'matmul');
    await check('ij,kj->ik', [[36, 20], [40, 20]], 'matmul');
    await check('ji,jk->ki', [[20, 33], [20, 5]], 'matmul');
  });
  it('batched: bij,bjk->bik and attention scores bhqd,bhkd->bhqk', async () => {
    await check('bij,bjk->bik', [[3, 17, 9], [3, 9, 40]], 'matmul');
    await check('bhqd,bhkd->bhqk', [[2, 3, 20, 16], [2, 3, 24, 16]], 'matmul');
    await check('bhqk,bhkd->bqhd', [[2, 3, 20, 24], [2, 3, 24, 16]], 'matmul');
  });
  it('dot, outer product, row-wise dot, implicit output, ellipsis broadcast', async () => {
    await check('i,i->', [[300], [300]], 'matmul');
    await check('i,j->ij', [[33], [40]], 'matmul');
    await check('ij,ij->i', [[20, 50], [20, 50]], 'matmul');
    await check('ij,jk', [[9, 12], [12, 7]], 'matmul');
    await check('...ij,...jk->...ik', [[2, 1, 5, 6], [3, 6, 4]], 'matmul');
    await check('abk,kn->abn', [[3, 5, 8], [8, 36]], 'matmul');
  });
  it('i32 contraction is exact', async () => {
    await check('ij,jk->ik', [[9, 20], [20, 11]], 'matmul', 'i32');
  });
});

describe('Einsum on the generic kernel', () => {
  it('transposes and permutations: ij->ji, ijk->kji', async () => {
    await check('ij->ji', [[7, 13]], 'generic');
    await check('ijk->kji', [[3, 4, 5]], 'generic');
  });
  it('diagonal ii->i, trace ii->, sums bij->bj', async () => {
    await check('ii->i', [[9, 9]], 'generic');
    await check('ii', [[9, 9]], 'generic');
    await check('bij->bj', [[3, 17, 5]], 'generic');
  });
  it('three operands, a label summed in one operand, two unmergeable summed labels', async () => {
    await check('ij,jk,kl->il', [[4, 5], [5, 6], [6, 3]], 'generic');
    await check('ij,jk->k', [[4, 5], [5, 6]], 'generic');
    await check('ijk,ikl->jl', [[3, 4, 5], [3, 5, 6]], 'generic');
  });
  it('i8 with wrapping', async () => {
    await check('ij,jk->ik', [[5, 7], [7, 3]], 'generic', 'i8');
  });
});
