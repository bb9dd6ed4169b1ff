// npm run soak -- --minutes N: mnist-8 (../shared) and a tiny llama decoder, loaded from artifact folders on disk,
// run in a loop on the adapter for N minutes. Every result is checked (mnist's logits against onnxruntime's
// reference, the decoder's tokens against its first generation), both are reloaded from disk every few seconds (a
// hot swap: new sessions, then the old ones disposed), and some runs are issued concurrently. Each minute prints
// runs, RSS (after a GC), GPU buffers alive and errors; the end prints the RSS growth from the warmed-up baseline
// and a JSON line, and exits 1 on any error, on a GPU buffer left alive, or on growth of 5 % or more. Memory that
// leaks per run or per load shows up as growth.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { compileGraph, compileProgram } from '../compiler/compile.js';
import { writeArtifact } from '../compiler/emit/write.js';
import { importHf, importOnnx, readTensorProtoFile } from '../ir/index.js';
import { Session, gpuBuffersAlive } from '../runtime/index.js';
import { writeRandomCheckpoint } from './lib/checkpoints.js';

const opts = new Command('soak')
  .option('--minutes <n>', 'how long to run', '10')
  .option('--reload-seconds <s>', 'reload both sessions from disk this often', '5')
  .option('--report-seconds <s>', 'print a progress line this often', '60')
  .option('--max-growth <fraction>', 'fail when RSS grows by this fraction or more', '0.05')
  .parse(process.argv)
  .opts<{ minutes: string; reloadSeconds: string; reportSeconds: string; maxGrowth: string }>();
const minutes = Number(opts.minutes);
if (!(minutes > 0)) throw new Error(`--minutes ${opts.minutes}: expected a positive number`);
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run soak does)');

const mnistDir = resolve(process.env.KILN_SHARED_DIR ?? resolve(import.meta.dirname, '../../shared'), 'models/mnist-8');
if (!existsSync(join(mnistDir, 'model.onnx'))) {
  console.error(`soak: needs the shared test material's mnist-8 at ${mnistDir} (set KILN_SHARED_DIR to the shared folder)`);
  process.exit(2);
}
const work = mkdtempSync(join(tmpdir(), 'kiln-soak-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// The two artifacts, written to disk as a user's would be.
const mnist = importOnnx(join(mnistDir, 'model.onnx'), {}).graph;
writeArtifact(join(work, 'mnist'), compileGraph(mnist, { source: 'model.onnx' }));
const sets = [0, 1, 2, 3].map((k) => join(mnistDir, 'reference', `test_data_set_${k}`));
const inputs = sets.map((d) => Float32Array.from(readTensorProtoFile(join(d, 'input_0.pb')).data));
const expected = sets.map((d) => Array.from(readTensorProtoFile(join(d, 'output_0.pb')).data));
const ckpt = writeRandomCheckpoint(join(work, 'llama-ckpt'), 'llama', 'tiny', 3);
const llama = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 48, chunk: 8 });
writeArtifact(join(work, 'llama'), compileProgram({ name: 'llama', entries: llama.entries, generation: llama.generation! }));
const prompt = [5, 17, 3, 90, 42, 7, 1, 64, 23, 11];

let runs = 0;
let generations = 0;
let reloads = 0;
const errors: string[] = [];
const fail = (what: string, e: unknown): void => {
  errors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  if (errors.length <= 20) console.log(`error ${errors.length}: ${errors[errors.length - 1]}`);
};

async function checkMnist(s: Session, k: number): Promise<void> {
  const out = Object.values(await s.run({ [s.inputs[0]!.name]: inputs[k]! }))[0]!;
  runs++;
  const worst = Math.max(...Array.from(out.data, (v, i) => Math.abs(Number(v) - expected[k]![i]!)));
  if (!(worst <= 1e-4)) fail(`mnist set ${k}`, `logits differ from the reference by ${worst}`);
}

let tokens: number[] | undefined;
async function checkLlama(s: Session): Promise<void> {
  const got = await s.generate(prompt, { maxNewTokens: 8, stopAtEos: false });
  generations++;
  tokens ??= got;
  if (got.join() !== tokens.join()) fail('llama', `generated ${got.join(',')}, first generation gave ${tokens.join(',')}`);
}

const rssMB = (): number => {
  gc();
  gc();
  return process.memoryUsage().rss / 1e6;
};

const start = Date.now();
const end = start + minutes * 60_000;
// RSS is sampled at one point of the cycle (right after a swap, after a GC). Growth compares the median of the samples in the last fifth of the run with the median of those
// in the second fifth (the first is warm-up: shader JIT, allocator arenas).
const samples: { at: number; mb: number }[] = [];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const window = (from: number, to: number): number => median(samples.filter((x) => x.at >= from && x.at < to).map((x) => x.mb));
const every = Number(opts.reportSeconds) * 1000;
let nextReport = start + every;
const report = (): void => {
  const latest = samples[samples.length - 1]?.mb ?? rssMB();
  console.log(`${((Date.now() - start) / 60_000).toFixed(1)} min: runs ${runs}, generations ${generations}, reloads ${reloads}, RSS ${latest.toFixed(1)} MB, GPU buffers alive ${gpuBuffersAlive()}, errors ${errors.length}`);
};

const loadPair = async (): Promise<[Session, Session]> => [await Session.load(join(work, 'mnist')), await Session.load(join(work, 'llama'))];
let sessions = await loadPair();
while (Date.now() < end) {
  const [m, l] = sessions;
  const until = Math.min(end, Date.now() + Number(opts.reloadSeconds) * 1000);
  for (let i = 0; Date.now() < until; i++) {
    // Every third round issues all four mnist runs at once (the session queues them) beside a generation.
    if (i % 3 === 2) await Promise.all([0, 1, 2, 3].map((k) => checkMnist(m, k).catch((e) => fail(`mnist set ${k}`, e))).concat(checkLlama(l).catch((e) => fail('llama', e))));
    else {
      await checkMnist(m, i % 4).catch((e) => fail(`mnist set ${i % 4}`, e));
      if (i % 2 === 0) await checkLlama(l).catch((e) => fail('llama', e));
    }
  }
  // A hot swap: the next sessions load from disk while the old ones are alive, then the old ones are disposed.
  try {
    const next = await loadPair();
    sessions.forEach((s) => s.dispose());
    sessions = next;
    reloads++;
  } catch (e) {
    fail('load', e);
  }
  samples.push({ at: (Date.now() - start) / (end - start), mb: rssMB() });
  if (Date.now() >= nextReport) {
    report();
    nextReport += every;
  }
}
sessions.forEach((s) => s.dispose());
report();
const baseline = window(0.2, 0.4);
const final = window(0.8, 1.01);
const growth = (final - baseline) / baseline;
console.log(`RSS median ${baseline.toFixed(1)} MB after warm-up (${samples.filter((x) => x.at >= 0.2 && x.at < 0.4).length} samples) -> ${final.toFixed(1)} MB at the end: growth ${(growth * 100).toFixed(2)} % (limit ${(Number(opts.maxGrowth) * 100).toFixed(0)} %)`);
console.log(JSON.stringify({ minutes, runs, generations, reloads, errors: errors.length, rssBaselineMB: Number(baseline.toFixed(1)), rssEndMB: Number(final.toFixed(1)), rssGrowth: Number(growth.toFixed(4)), gpuBuffersAlive: gpuBuffersAlive() }));
// No samples in a window (a run shorter than a few reloads) is a failure too: growth is NaN.
process.exitCode = errors.length || !(growth < Number(opts.maxGrowth)) || gpuBuffersAlive() !== 0 ? 1 : 0;
