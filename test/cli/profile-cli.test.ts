// `kiln profile`: measured time per dispatch next to the traffic model's prediction, on the example perceptron
// and on mnist-8 (the built CLI, as a user runs it; `npm run build` first). The rank correlation for mnist-8 is
// printed, not asserted: it is a property of the model and the adapter, reported by the acceptance run.
// A decoder's entries are profiled at a realistic step unless told otherwise: decode half way into the cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../scripts/lib/shared.js';
import { tempCheckpoint } from '../import/hf-fixtures.js';
import { kiln } from '../kiln-cli.js';

const MNIST = join(sharedDir() ?? '../shared', 'models/mnist-8');
let dir: string;
const ckpt = tempCheckpoint('llama', 'tiny');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-profile-'));
  for (const args of [
    ['compile', 'examples/mlp.kir', '-o', join(dir, 'mlp')],
    ['compile', join(MNIST, 'model.onnx'), '-o', join(dir, 'mnist')],
    ['compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', '64', '--chunk', '16', '-o', join(dir, 'llama')],
  ]) {
    const r = kiln(args);
    expect(r.status, r.stderr).toBe(0);
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(dirname(ckpt.configPath), { recursive: true, force: true });
});

interface ProfileJson {
  method: string;
  profile: string;
  runs: number;
  symbols: Record<string, number>;
  step: Record<string, number>;
  dispatches: { index: number; kernel: string; label: string; measuredMs: number; predictedMs: number; rooflineFraction: number; bytesRead: number }[];
  total: { measuredMs: number; predictedMs: number; rooflineFraction: number };
  spearman: number | null;
}

describe('kiln profile', () => {
  it('prints a table per dispatch with measured and predicted times, totals and the rank correlation', () => {
    const r = kiln(['profile', join(dir, 'mlp'), '--dim', 'batch=3', '--runs', '3']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('#'))!.split('\t')).toEqual(['#', 'kernel', 'measured ms', 'predicted ms', 'roofline', 'node']);
    const rows = lines.filter((l) => /^\d+\t/.test(l)).map((l) => l.split('\t'));
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      expect(Number(row[2])).toBeGreaterThan(0);
      expect(Number(row[3])).toBeGreaterThan(0);
      expect(row[4]).toMatch(/^\d+\.\d %$/);
    }
    expect(lines.some((l) => l.startsWith('total\t'))).toBe(true);
    expect(r.stdout).toMatch(/spearman rank correlation \(predicted vs measured, 4 dispatches\): /);
  });

  it('--json on mnist-8 gives one object with every dispatch measured, on a given input', () => {
    const input = join(MNIST, 'reference/test_data_set_0/input_0.pb');
    const r = kiln(['profile', join(dir, 'mnist'), '--input', `Input3=${input}`, '--runs', '5', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as ProfileJson;
    expect(j.runs).toBe(5);
    expect(['timestamp-query', 'submit']).toContain(j.method);
    expect(j.dispatches).toHaveLength(5);
    for (const d of j.dispatches) {
      expect(d.measuredMs).toBeGreaterThan(0);
      expect(d.predictedMs).toBeGreaterThan(0);
      expect(d.rooflineFraction).toBeGreaterThan(0);
      expect(d.bytesRead).toBeGreaterThan(0);
    }
    expect(j.total.measuredMs).toBeCloseTo(j.dispatches.reduce((s, d) => s + d.measuredMs, 0), 9);
    expect(j.spearman).not.toBeNull();
    expect(j.spearman!).toBeGreaterThanOrEqual(-1);
    expect(j.spearman!).toBeLessThanOrEqual(1);
    console.log(`mnist-8 (${j.method}, profile ${j.profile}): spearman ${j.spearman!.toFixed(3)}; ` + j.dispatches.map((d) => `${d.kernel} ${d.measuredMs.toFixed(3)}/${d.predictedMs.toFixed(3)} ms`).join(', '));
  });

  it("times a decoder's decode step half way into its cache and its prefill chunk at position 0, unless told", () => {
    const decode = kiln(['profile', join(dir, 'llama'), '--entry', 'decode', '--runs', '2', '--json']);
    expect(decode.status, decode.stderr).toBe(0);
    expect((JSON.parse(decode.stdout) as ProfileJson).step).toEqual({ pos: 32, len: 1 });
    const prefill = kiln(['profile', join(dir, 'llama'), '--entry', 'prefill', '--runs', '2']);
    expect(prefill.status, prefill.stderr).toBe(0);
    expect(prefill.stdout.split('\n')[0]).toMatch(/entry prefill at pos 0, len 16 \(--input to choose\), \d+ dispatches/);
    // Not a decoder: every input random, no step reported.
    const mlp = kiln(['profile', join(dir, 'mlp'), '--runs', '2', '--json']);
    expect((JSON.parse(mlp.stdout) as ProfileJson).step).toEqual({});
  }, 120_000);

  it('refuses a symbolic dim outside the compiled range, naming the range', () => {
    const r = kiln(['profile', join(dir, 'mlp'), '--dim', 'batch=999']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--dim batch=999: must be an integer in 1\.\.64/);
  });
});
