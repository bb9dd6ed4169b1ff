// BitMatMul on the adapter (compiler/kernels/bit-matmul.ts) equals the interpreter's exact integer sums for every
// (n, m) in 1..8 x 1..8 (weight bits x activation bits), K = 77 (not a multiple of 32: tail words), every digit
// reading (bipolar ±1, unsigned 0/1, two's complement) on both sides across the pairs (the XOR path, both AND
// forms and the plain AND), one sum over K or per-group sums with groups that start inside a word.
import { describe, expect, it } from 'vitest';
import { type DType, type Graph, GraphBuilder, type Tensor, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { runGraphOnGpu } from './graph-harness.js';

type Scheme = 'bipolar' | 'unsigned' | 'signed';
const SCHEMES: readonly Scheme[] = ['bipolar', 'unsigned', 'signed'];

const codeDType = (bits: number, s: Scheme): DType => `${s === 'signed' ? 'i' : 'u'}${bits}` as DType;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Random codes over a dtype's whole range (extremes included). */
function codes(dtype: DType, shape: number[], seed: number) {
  const r = rng(seed);
  const bits = Number(dtype.slice(1));
  const [lo, hi] = dtype.startsWith('i') ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
  return makeTensor(dtype, shape, (i) => (i % 11 === 0 ? lo : i % 13 === 0 ? hi : lo + Math.floor(r() * (hi - lo + 1))));
}

/** g compiles to the GEMV `kernel` (no bit planes) and its sums on the adapter equal the interpreter's. */
async function expectFastPath(g: Graph, kernel: string, x: Record<string, Tensor>, what: string, subgroups?: { shared: boolean }): Promise<void> {
  const artifact = compileGraph(g, { source: 'test', target: { shaderF16: false, ...(subgroups ? { subgroups: true } : {}) } });
  const files = artifact.manifest.kernels.map((f) => f.file);
  expect(files.some((f) => f.includes(kernel)), files.join(' ')).toBe(true);
  expect(files.some((f) => f.includes('bit-planes')), files.join(' ')).toBe(false);
  // With subgroups, the activation words go through subgroupBroadcast exactly where K and the groups are whole chunks.
  const wgsl = [...artifact.files].filter(([p]) => p.includes(kernel)).map(([, f]) => new TextDecoder().decode(f as Uint8Array)).join('');
  expect(wgsl.includes('subgroupBroadcast'), `${what}: subgroup activations`).toBe(!!subgroups?.shared);
  const want = Object.values(interpret(g, x))[0]!;
  const got = Object.values(await runGraphOnGpu(g, x, { subgroups: !!subgroups }))[0]!;
  expect(Array.from(got.data), what).toEqual(Array.from(want.data));
}

describe('BitMatMul on the adapter', () => {
  it('equals the interpreter exactly for every (n, m) in 1..8 x 1..8, K = 77, every digit reading, grouped and not', async () => {
    const [rows, m, k] = [3, 5, 77];
    const seen = new Set<string>();
    for (let n = 1; n <= 8; n++)
      for (let mb = 1; mb <= 8; mb++) {
        // Signed needs 2 bits (i1 holds only -1 and 0); the schemes rotate over the pairs.
        // (n + mb, n + 2 mb) mod 3 takes all nine pairs of readings as (n, mb) range over residues mod 3.
        const pick = (bits: number, i: number): Scheme => (bits === 1 && SCHEMES[i % 3] === 'signed' ? 'bipolar' : SCHEMES[i % 3]!);
        const ws = pick(n, n + mb);
        const as = pick(mb, n + 2 * mb);
        seen.add(`${ws}x${as}`);
        const group = (n + mb) % 2 ? 0 : 40;
        const b = new GraphBuilder('bits');
        const a = b.input('a', tensorType(codeDType(mb, as), [rows, k]));
        const w = b.constant(codes(codeDType(n, ws), [m, k], n * 10 + mb), 'w');
        b.output(b.op('BitMatMul', [a, w], { a_bipolar: as === 'bipolar' ? 1 : 0, w_bipolar: ws === 'bipolar' ? 1 : 0, group }));
        const g = b.build();
        const x = { a: codes(codeDType(mb, as), [rows, k], 100 + n * 10 + mb) };
        const want = Object.values(interpret(g, x))[0]!;
        const got = Object.values(await runGraphOnGpu(g, x))[0]!;
        expect(got.shape, `w${n}a${mb}`).toEqual(group ? [rows, m, 2] : [rows, m]);
        expect(Array.from(got.data), `w${n}a${mb} (${ws} x ${as}, group ${group})`).toEqual(Array.from(want.data));
      }
    // Every pairing of digit readings occurred.
    expect(seen.size).toBe(9);
  }, 300_000);

  it('the dot4I8Packed GEMV (a8 x w8/w4/w2, K whole 16-byte steps) equals the interpreter exactly', async () => {
    const r = rng(9);
    for (const [wdt, k, group, rows, m] of [
      ['i8', 48, 0, 1, 70],
      ['i8', 64, 32, 3, 5],
      ['i4', 96, 64, 1, 300],
      ['i4', 128, 32, 2, 9],
      ['i2', 128, 64, 4, 65],
      ['i2', 192, 0, 1, 3],
    ] as const) {
      const b = new GraphBuilder('bits');
      const a = b.input('a', tensorType('i8', [rows, k]));
      const w = b.constant(codes(wdt, [m, k], Math.floor(r() * 1e6)), 'w');
      b.output(b.op('BitMatMul', [a, w], { group }));
      const x = { a: codes('i8', [rows, k], Math.floor(r() * 1e6)) };
      await expectFastPath(b.build(), 'bit-gemv', x, `${wdt} K=${k} group ${group} rows ${rows} M=${m}`);
      // Activations shared through subgroups a step at a time where a step takes several vec4s (w4, w2).
      const shared = wdt !== 'i8';
      await expectFastPath(b.build(), 'bit-gemv', x, `${wdt} K=${k} group ${group} rows ${rows} M=${m}, subgroups`, { shared });
    }
  }, 120_000);

  it('the XOR GEMV (a1 x w1 bipolar, K whole 128-code steps; groups unrolled, looped, short) equals the interpreter exactly', async () => {
    const r = rng(11);
    for (const [k, group, rows, m] of [
      [128, 0, 1, 70],
      [256, 128, 3, 5],
      [384, 0, 2, 300],
      [512, 256, 1, 257],
      [384, 256, 2, 70],
      [640, 0, 1, 9],
    ] as const) {
      const b = new GraphBuilder('bits');
      const a = b.input('a', tensorType('u1', [rows, k]));
      const w = b.constant(codes('u1', [m, k], Math.floor(r() * 1e6)), 'w');
      b.output(b.op('BitMatMul', [a, w], { group, a_bipolar: 1, w_bipolar: 1 }));
      await expectFastPath(b.build(), 'xor-gemv', { a: codes('u1', [rows, k], Math.floor(r() * 1e6)) }, `K=${k} group ${group} rows ${rows} M=${m}`);
    }
  }, 120_000);

  it('refuses sums that could pass i32, naming the group that fits, and non-code operands', () => {
    const b = new GraphBuilder('bits');
    const a = b.input('a', tensorType('u8', [1, 40000]));
    const w = b.constant(makeTensor('u8', [2, 40000], () => 1), 'w');
    expect(() => b.op('BitMatMul', [a, w])).toThrow(/BitMatMul: sums over 40000 products of u8 x u8 can reach 2601000000, past i32; set group to at most 33025/);
    expect(b.op('BitMatMul', [a, w], { group: 33025 })).toBeTruthy();
    expect(() => b.op('BitMatMul', [a, w], { group: 33026 })).toThrow(/past i32/);
    const f = b.input('f', tensorType('f32', [1, 4]));
    expect(() => b.op('BitMatMul', [f, b.constant(makeTensor('u4', [2, 4], () => 1), 'w4')])).toThrow(/BitMatMul: a must hold integer codes of 1 to 8 bits \(i1\.\.i8, u1\.\.u8\), got f32/);
  });
});
