// `npm run eval:quant`: what quantization does to a decoder's next-token distributions. The GPT-2-124M-shaped
// checkpoint (bench/lib/decoders.ts: random weights, cached) is compiled with float weights and at each bitpack
// width asked for (every matmul weight, the tied embedding and LM head included); each artifact decodes the same
// fixed token sequence step by step from position 0 (teacher forcing: every variant sees the same tokens), and
// each step's logits are compared with the float artifact's: top-1 agreement (the argmaxes equal) and the
// KL divergence KL(P_float || P_quant) of the softmaxes, in float64 (mean and max over the steps), with the largest
// |logit difference|. Prints a table, saves a chart (bench/out/eval-quant.svg), and ends with one JSON line
// {"steps", "rows": [{"bits", "weightsMB", "top1", "meanKL", "maxKL", "maxLogitError"}]}.
// Random weights give flat distributions: the figures measure the quantization's effect on the outputs, not
// a trained model's accuracy.
//
//   npm run eval:quant [-- --bits w8f16 --bits w4f16 --bits w4a8 --bits w2f16 --group 128 --steps 32 --cache .bench-cache]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AcquiredDevice, acquireDevice } from '../runtime/device.js';
import { Session } from '../runtime/index.js';
import { type ModelSpec, type Prepared, argmax, prepare, promptIds, requiredLimits } from './lib/decoders.js';
import { barChartSvg } from './lib/svg-chart.js';
import { formatTable } from './lib/table.js';

const { values: args } = parseArgs({
  options: {
    bits: { type: 'string', multiple: true, default: ['w8f16', 'w4f16', 'w4a8', 'w2f16'] },
    group: { type: 'string', default: '128' },
    steps: { type: 'string', default: '32' },
    cache: { type: 'string', default: '.bench-cache' },
    svg: { type: 'string', default: 'bench/out/eval-quant.svg' },
  },
});
const STEPS = Number(args.steps);
const GROUP = Number(args.group);
if (!Number.isInteger(STEPS) || STEPS < 1) throw new Error(`eval:quant: --steps must be a positive integer, got ${args.steps}`);
const log = (line: string): void => void process.stderr.write(`[eval:quant] ${line}\n`);

const base: ModelSpec = { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 0, runs: 1 }, decode: { warmup: 0, runs: 1 } };

/** Each decode step's logits for the fixed token sequence, from position 0. */
async function stepLogits(p: Prepared, device: AcquiredDevice): Promise<Float32Array[]> {
  const session = await Session.load(p.artifactDir, { device });
  try {
    const g = session.manifest.generation!;
    if (STEPS > g.maxSeq) throw new Error(`${STEPS} steps overflow the ${g.maxSeq}-position cache`);
    const ids = promptIds(STEPS, g.vocabSize);
    const out: Float32Array[] = [];
    for (let t = 0; t < STEPS; t++) {
      const r = await session.run({ [g.ids]: [ids[t]!], [g.position]: [t], [g.length]: [1] }, g.decode, { outputs: [g.logits] });
      out.push(Float32Array.from(r[g.logits]!.data as ArrayLike<number>));
    }
    return out;
  } finally {
    session.dispose();
  }
}

/** log softmax in float64. */
function logSoftmax(z: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (const v of z) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(z, (v) => v - lse);
}

function compare(ref: Float32Array[], got: Float32Array[]): { top1: number; meanKL: number; maxKL: number; maxLogitError: number } {
  let [agree, klSum, klMax, err] = [0, 0, 0, 0];
  for (let t = 0; t < ref.length; t++) {
    const [lp, lq] = [logSoftmax(ref[t]!), logSoftmax(got[t]!)];
    let kl = 0;
    for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]!) * (lp[i]! - lq[i]!);
    for (let i = 0; i < lp.length; i++) err = Math.max(err, Math.abs(ref[t]![i]! - got[t]![i]!));
    agree += argmax(ref[t]!) === argmax(got[t]!) ? 1 : 0;
    [klSum, klMax] = [klSum + kl, Math.max(klMax, kl)];
  }
  return { top1: agree / ref.length, meanKL: klSum / ref.length, maxKL: klMax, maxLogitError: err };
}

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const widths = args.bits as string[];
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
const problems: string[] = [];
const float = await prepare(args.cache!, 'gpt2-124m', base, log);
const variants: { bits: string; p: Prepared }[] = [];
for (const bits of widths) {
  try {
    variants.push({ bits, p: await prepare(args.cache!, `gpt2-124m-${bits}`, { ...base, bits: { bits, group: GROUP } }, log) });
  } catch (e) {
    problems.push(`${bits}: ${message(e)}`);
  }
}
const all = [float, ...variants.map((v) => v.p)];
const device = await acquireDevice({
  features: [...new Set(all.flatMap((p) => p.manifest.requires.features))] as GPUFeatureName[],
  limits: requiredLimits(all.map((p) => p.manifest)),
});
const rows: { bits: string; weightsMB: number; top1: number; meanKL: number; maxKL: number; maxLogitError: number }[] = [];
try {
  log(`float: ${STEPS} decode steps ...`);
  const ref = await stepLogits(float, device);
  for (const { bits, p } of variants) {
    log(`${bits}: ${STEPS} decode steps ...`);
    try {
      rows.push({ bits, weightsMB: (p.manifest.memory?.weightsBytes ?? NaN) / 1e6, ...compare(ref, await stepLogits(p, device)) });
    } catch (e) {
      problems.push(`${bits}: ${message(e)}`);
    }
  }
} finally {
  device.release();
}

const svgPath = resolve(args.svg!);
mkdirSync(dirname(svgPath), { recursive: true });
writeFileSync(svgPath, barChartSvg({ title: `gpt2-124m: mean KL(P_float || P_quant) over ${STEPS} decode steps`, yLabel: 'mean KL (nats)', series: ['mean KL'], groups: rows.map((r) => ({ label: r.bits, values: [r.meanKL] })), width: 640 }));
console.log(`gpt2-124m-shaped (random weights), ${STEPS} teacher-forced decode steps from position 0, against the float artifact (${((float.manifest.memory?.weightsBytes ?? NaN) / 1e6).toFixed(1)} MB of weights); groups of ${GROUP}\n`);
console.log(
  formatTable(
    ['bits', 'weights MB', 'top-1 agreement', 'mean KL', 'max KL', 'max |logit error|'],
    rows.map((r) => [r.bits, r.weightsMB, `${(100 * r.top1).toFixed(1)} %`, r.meanKL.toExponential(2), r.maxKL.toExponential(2), r.maxLogitError.toExponential(2)]),
  ),
);
if (problems.length) console.log(`\nproblems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
console.log(`\nchart: ${svgPath}`);
const round = (x: number): number => Number(x.toPrecision(4));
console.log(JSON.stringify({ steps: STEPS, group: GROUP, rows: rows.map((r) => ({ bits: r.bits, weightsMB: round(r.weightsMB), top1: r.top1, meanKL: round(r.meanKL), maxKL: round(r.maxKL), maxLogitError: round(r.maxLogitError) })) }));
process.exitCode = problems.length ? 1 : 0;
