// `kiln compile --prune` and `kiln ir groups`: structured pruning from the command line. The example MLP pruned by a
// quarter runs on the adapter as the interpreter runs the pruned graph; mnist-8 pruned by 30 % still reads its four
// test digits on the adapter (the logit errors against the unpruned model are in the README); the groups listing
// says which group may be pruned and which barrier keeps the other.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRawTensorProto } from '../../ir/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { kiln } from '../kiln-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-prune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outputs = Record<string, { data: number[]; shape: number[] }>;
const outputsOf = (stdout: string): Outputs => (JSON.parse(stdout) as { outputs: Outputs }).outputs;

describe('kiln compile --prune', () => {
  it('prunes the example MLP to 6 hidden channels; the adapter matches the interpreter on the pruned graph', () => {
    const flags = ['--prune', '0.25', '--prune-multiple', '2', '--prune-only', 'w1'];
    const out = join(dir, 'mlp');
    const c = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', ...flags, '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const pruned = join(dir, 'mlp.kir');
    const o = kiln(['ir', 'opt', 'examples/mlp.kir', '--passes', 'infer-shapes,prune-structured', ...flags, '-o', pruned]);
    expect(o.status, o.stderr).toBe(0);
    expect(readFileSync(pruned, 'utf8')).toContain('const %w1: f32[4,6]');
    const gpu = kiln(['run', out, '--input', 'x=examples/mlp-input.json', '--json']);
    expect(gpu.status, gpu.stderr).toBe(0);
    const ref = kiln(['ir', 'run', pruned, '--input', 'x=examples/mlp-input.json', '--json']);
    expect(ref.status, ref.stderr).toBe(0);
    const [g, r] = [outputsOf(gpu.stdout).probs!.data, outputsOf(ref.stdout).probs!.data];
    g.forEach((v, i) => expect(Math.abs(v - r[i]!)).toBeLessThan(1e-5));
  }, 120_000);

  it.runIf(haveShared())('mnist-8 pruned by 30 % per layer still reads 0, 3, 5, 7 on the adapter', () => {
    const model = join(sharedDir() ?? '', 'models/mnist-8');
    const out = join(dir, 'mnist30');
    const c = kiln(['compile', join(model, 'model.onnx'), '--prune', '0.3', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const digits = [0, 1, 2, 3].map((set) => {
      const r = kiln(['run', out, '--input', `Input3=${join(model, 'reference', `test_data_set_${set}`, 'input_0.pb')}`, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const logits = outputsOf(r.stdout).Plus214_Output_0!.data;
      return logits.indexOf(Math.max(...logits));
    });
    expect(digits).toEqual([0, 3, 5, 7]);
    // The report: 2 of 8 and 4 of 16 filters gone, with their biases and the head's rows; FLOPs as the kernels count.
    const inspect = kiln(['inspect', out]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('pruning: 2 groups pruned; parameters of 5 weights 5,984 -> 3,888; FLOPs of those layers in entry run 1,573,120 -> 944,640');
    expect(inspect.stdout).toContain('  Parameter87\t16 x 8 x 5 x 5\t12 x 6 x 5 x 5\t3,200\t1,800\t1,254,400\t705,600');
    expect(inspect.stdout).toContain('  Parameter87 Parameter88\tchannels\t16\t12');
  }, 120_000);
});

describe.runIf(haveShared())('kiln compile --prune on shared models', () => {
  const models = join(sharedDir() ?? '', 'models');
  const argmax = (xs: number[]): number => xs.indexOf(Math.max(...xs));

  it('burn-mnist pruned by 30 % per layer (and calibrated on its reference inputs) still reads 0, 3, 5, 7', () => {
    const folder = join(models, 'burn-mnist-safetensors');
    for (const calibrate of [[], ['--calibrate', join(folder, 'reference')]]) {
      const out = join(dir, `burn30${calibrate.length ? '-calibrated' : ''}`);
      const c = kiln(['compile', 'examples/burn-mnist/graph.kir', '--weights', join(folder, 'mnist.safetensors'), '--prune', '0.3', ...calibrate, '-o', out]);
      expect(c.status, c.stderr).toBe(0);
      const digits = [0, 1, 2, 3].map((set) => {
        const r = kiln(['run', out, '--input', `x=${join(folder, 'reference', `test_data_set_${set}`, 'input_0.pb')}`, '--json']);
        expect(r.status, r.stderr).toBe(0);
        return argmax(outputsOf(r.stdout).log_probs!.data);
      });
      expect(digits).toEqual([0, 3, 5, 7]);
    }
  }, 240_000);

  it('tiny-distilbert-sst2 at 20 % (global, heads too) calibrated on its two reference inputs keeps both predictions', () => {
    const model = join(models, 'tiny-distilbert-sst2');
    const out = join(dir, 'distilbert20');
    const flags = ['--dim', 'batch=1..2', '--dim', 'sequence=1..8', '--prune', '0.2', '--prune-heads', '0.2', '--prune-scope', 'global'];
    const c = kiln(['compile', join(model, 'model.onnx'), ...flags, '--calibrate', join(model, 'reference'), '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    // One of the 7 prunable groups' 14 channels (2 per group) goes: a head of layer 1 (q, k, v and the output
    // columns: an exported attention subgraph) and a channel of the pre-classifier.
    const report = kiln(['inspect', out]).stdout;
    expect(report).toMatch(/pruning: 2 groups pruned/);
    expect(report).toMatch(/layer\.1\.attention\.v_lin\.bias\theads\t2\t1/);
    for (const set of [0, 1]) {
      const data = join(model, 'reference', `test_data_set_${set}`);
      const r = kiln(['run', out, '--input', `input_ids=${join(data, 'input_0.pb')}`, '--input', `attention_mask=${join(data, 'input_1.pb')}`, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const got = outputsOf(r.stdout).logits!.data;
      const want = Array.from(readRawTensorProto(join(data, 'output_0.pb')).values);
      got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
    }
  }, 240_000);

  it('refuses --calibrate without --prune or --bits, and a sample folder without a file for an input', () => {
    const a = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '--calibrate', dir, '-o', join(dir, 'x')]);
    expect(a.status).toBe(1);
    expect(a.stderr.trim()).toBe('kiln: --calibrate needs --prune <ratio> or --bits <w..a..>: the samples score the channels pruning removes, and measure the output error quantization causes');
    const empty = join(dir, 'samples');
    mkdirSync(join(empty, 's0'), { recursive: true });
    const b = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '--prune', '0.25', '--calibrate', empty, '-o', join(dir, 'y')]);
    expect(b.status).toBe(1);
    expect(b.stderr.trim()).toBe(`kiln: --calibrate: ${join(empty, 's0')} has no file for input x (expected one of x.json, x.npy, x.pb, input_0.pb)`);
  }, 60_000);
});

describe('kiln ir groups', () => {
  it('lists the hidden group as prunable and the logits group as barred by the Softmax', () => {
    const r = kiln(['ir', 'groups', 'examples/mlp.kir', '--dim', 'batch=2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { groups } = JSON.parse(r.stdout) as { groups: { channels: number; prunable: boolean; barriers: string[]; slices: string[] }[] };
    expect(groups.map((g) => [g.channels, g.prunable])).toEqual([
      [8, true],
      [3, false],
    ]);
    expect(groups[0]!.slices).toEqual(['w1[axis 1]', 'b1[axis 0]', 'w2[axis 0, in]']);
    expect(groups[1]!.barriers[0]).toMatch(/^Softmax reads the channels/);
    const table = kiln(['ir', 'groups', 'examples/mlp.kir', '--dim', 'batch=2']);
    expect(table.stdout).toContain('(1 of 2 prunable)');
  }, 60_000);

  it('names an entry that does not exist', () => {
    const r = kiln(['ir', 'groups', 'examples/mlp.kir', '--dim', 'batch=2', '--entry', 'decode']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("kiln: --entry decode: no such entry (entries: run)");
  });
});
