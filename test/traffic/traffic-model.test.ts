// The traffic model (compiler/traffic/): stream arithmetic at transaction granularity, and the streams real
// kernels describe once compiled: a contiguous elementwise op, a transpose (a strided read), a tiled matmul (re-reads).
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { predict, stream, streamBytes, trafficRates } from '../../compiler/traffic/index.js';
import { GraphBuilder, makeTensor, parseKir, tensorType } from '../../ir/index.js';
import { PROFILES } from '../../passes/index.js';
import type { Dispatch } from '../../runtime/plan.js';

const lavapipe = PROFILES.lavapipe!;
const T = trafficRates(lavapipe).transactionBytes;

function onlyDispatch(kir: string): Dispatch {
  const m = compileGraph(parseKir(kir, 't.kir'), { profile: lavapipe }).manifest;
  const ds = m.entryPoints.run!.dispatches;
  expect(ds).toHaveLength(1);
  expect(m.costProfile).toBe('lavapipe');
  return ds[0]!;
}

describe('stream bytes', () => {
  it('a contiguous stream costs its bytes rounded up to whole transactions', () => {
    expect(streamBytes(stream(0, 1000), 64)).toBe(1024);
    expect(streamBytes(stream(0, 4096), 64)).toBe(4096);
    expect(streamBytes(stream(0, 4096, 4096, 3), 64)).toBe(3 * 4096);
  });
  it('strided 4-byte elements cost a transaction each, unless the stride is shorter than one', () => {
    expect(streamBytes(stream(0, 400, 4, 1, 4096), 64)).toBe(100 * 64);
    expect(streamBytes(stream(0, 400, 4, 1, 8), 64)).toBe(100 * 8);
    expect(streamBytes(stream(0, 400, 4), 32)).toBe(100 * 32);
  });
  it('predicts the larger of memory and compute time plus the launch cost', () => {
    const rates = { readBytesPerMs: 1000, writeBytesPerMs: 500, transactionBytes: 1, flopsPerMs: 100, launchMs: 0.5, barrierMs: 0.25 };
    const memory = predict([stream(0, 2000), stream(1, 1000)], (j) => j === 1, 10, rates);
    expect(memory).toEqual({ bytesRead: 2000, bytesWritten: 1000, rooflineMs: 4, ms: 4.5 });
    expect(predict([stream(0, 10)], () => false, 1000, rates).rooflineMs).toBe(10);
    // Barrier rounds add their cost on top of the roofline, like the launch.
    expect(predict([stream(0, 2000), stream(1, 1000)], (j) => j === 1, 10, rates, 4)).toEqual({ bytesRead: 2000, bytesWritten: 1000, rooflineMs: 4, ms: 5.5 });
  });
});

describe('kernels describe their traffic', () => {
  it('a contiguous elementwise op streams each operand and the output once', () => {
    const d = onlyDispatch('graph @g(%a: f32[64,64], %b: f32[64,64]) {\n  %c = Add(%a, %b) : f32[64,64]\n  return %c\n}\n');
    const t = d.cost!.traffic!;
    expect(t.described).toBe(true);
    expect(t.bytesRead).toBe(2 * 64 * 64 * 4);
    expect(t.bytesWritten).toBe(64 * 64 * 4);
  });

  it('a transpose reads every element as its own transaction and writes contiguously', () => {
    const d = onlyDispatch('graph @g(%a: f32[64,64]) {\n  %t = Transpose(%a) {perm = [1, 0]} : f32[64,64]\n  return %t\n}\n');
    const t = d.cost!.traffic!;
    expect(t.described).toBe(true);
    expect(t.bytesRead).toBe(64 * 64 * T);
    expect(t.bytesWritten).toBe(64 * 64 * 4);
    // The same bytes read contiguously cost 16x less at a 64-byte transaction.
    expect(t.bytesRead / (64 * 64 * 4)).toBe(T / 4);
  });

  it('a tiled matmul re-reads A once per column of tiles and B once per row of tiles', () => {
    const d = onlyDispatch('graph @g(%a: f32[256,256], %b: f32[256,256]) {\n  %c = MatMul(%a, %b) : f32[256,256]\n  return %c\n}\n');
    const t = d.cost!.traffic!;
    expect(t.described).toBe(true);
    const [a, b, out] = t.streams;
    // [binding, bytes, run, times]: both operands 256 KiB, each re-read; the output written once.
    expect(a![1]).toBe(256 * 256 * 4);
    expect(b![1]).toBe(256 * 256 * 4);
    expect(a![3]).toBeGreaterThan(1);
    expect(b![3]).toBeGreaterThan(1);
    expect(out).toEqual([2, 256 * 256 * 4, 256 * 256 * 4, 1]);
    expect(t.bytesRead).toBeGreaterThanOrEqual((a![3] + b![3]) * 256 * 256 * 4);
    expect(t.bytesWritten).toBe(256 * 256 * 4);
    expect(t.ms).toBeGreaterThan((2 * 256 ** 3) / trafficRates(lavapipe).flopsPerMs);
  });

  it('the arranged GEMV streams its panels once and reads the activation once per panel', () => {
    // 512 x 256 f32 weight in panels of 256 (two panels): 512 KiB of weights, x [1, 256] read twice.
    const b = new GraphBuilder('g');
    const x = b.input('x', tensorType('f32', [1, 256]));
    b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [256, 512], (i) => Math.sin(i)), 'w')]));
    const m = compileGraph(b.build(), { profile: lavapipe }).manifest;
    const ds = m.entryPoints.run!.dispatches;
    expect(m.kernels.find((k) => k.id === ds[0]!.kernel)!.file).toContain('gemv-arranged');
    const t = ds[0]!.cost!.traffic!;
    expect(t.described).toBe(true);
    const panels = Math.ceil(512 / 256);
    expect(t.bytesRead).toBe(256 * 512 * 4 + panels * 256 * 4);
    expect(t.bytesWritten).toBe(512 * 4);
  });

  it('a skinny matmul reduces K through workgroup barriers: their waits are counted and priced by the profile', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', tensorType('f32', [1, 256]));
    b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [256, 10], (i) => Math.sin(i)), 'w')]));
    const m = compileGraph(b.build(), { profile: lavapipe, layout: 'row-major' }).manifest;
    const d = m.entryPoints.run!.dispatches[0]!;
    const t = d.cost!.traffic!;
    const k = m.kernels.find((k) => k.id === d.kernel)!;
    const invocations = k.workgroupSize.reduce((a, b) => a * b, 1) * d.workgroups.reduce<number>((a, b) => a * (b as number), 1);
    // Rounds (a store and log2 of the K slices) times every invocation of the dispatch.
    expect(t.barriers! % invocations).toBe(0);
    expect(t.barriers! / invocations).toBeGreaterThanOrEqual(2);
    const rates = trafficRates(lavapipe);
    expect(t.ms).toBeCloseTo(predict(t.streams.map((s) => [...s] as [number, number, number, number]), (j) => k.bindings[j]!.access === 'read_write', t.flops ?? d.cost!.flops, rates).ms + t.barriers! * lavapipe.barrierMs!, 9);
  });
});
