// `npm run bench:decode`: token throughput of compiled decoders, and how close a decode step comes to the
// adapter's read-bandwidth roofline. A decode step reads every weight once for one token, so
// weights bytes / step time is the bandwidth it achieves; bench/lib/bandwidth.ts measures the ceiling on the same
// device in the same process. For a GPT-2-124M-shaped and a Llama-shaped ~500M random checkpoint (written once
// into the cache folder, reused after), each model is compiled (maxSeq 256, prefill chunk 128) into a directory,
// loaded into a Session on one shared device, timed on prefill of 128 tokens at position 0 and checked once (the
// first decode step's next_token is the argmax of its logits). Then the decode steps of all models, interleaved
// round by round (interleavedDecode: the ratios between models hold under a drifting machine load), at the
// positions after the prompt, each feeding back the previous token and reading back only next_token; then the
// roofline is measured on the same device. Progress goes to stderr; the last line printed is one JSON object:
// {"rows": [{"model", "prefillTokPerS", "decodeTokPerS", "decodeGBps", "rooflineGBps"}]} (null where a model failed).
//
// 'gpt2-124m-sparse80' is the same GPT-2 checkpoint compiled with --sparsity 0.8 (Flash-LLM-style Tiled-CSL
// weights, f16 values, kernels chosen by the device profile of the local adapter): it must decode faster.
// 'gpt2-124m-f16' is compiled with --weights-dtype f16 (dense weights stored as f16, half the bytes).
// 'gpt2-124m-w4' is compiled with --bits w4f16 --bits-group 128: every matmul weight, the tied embedding and LM head
// included, as 4-bit codes read in place by the quant GEMV and the quant gather.
// 'gpt2-124m-w4a8' is compiled with --bits w4a8 --bits-group 128 and the tied embedding and LM head at w4f16
// (--bits-layers): every weight 4-bit codes, the blocks' matmuls as exact integer GEMVs over 8-bit activations.
// 'gpt2-124m-pruned' is compiled with --prune 0.5 --prune-heads 0.25 (structured pruning: half of each MLP's
// channels and a quarter of each layer's heads removed, the embedding and head untouched: 28 % of the weight bytes).
// Embeddings and heads over 128 MiB are split by the compiler into blocks that fit one storage binding.
//
//   npm run bench:decode [-- --model gpt2-124m --model llama-500m --cache .bench-cache --svg bench/out/decode.svg]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AcquiredDevice, acquireDevice } from '../runtime/device.js';
import { Session } from '../runtime/index.js';
import { type Bandwidth, measureReadBandwidth } from './lib/bandwidth.js';
import { MAX_SEQ, type ModelSpec, type Prepared, argmax, prepare, promptIds, requiredLimits } from './lib/decoders.js';
import { barChartSvg } from './lib/svg-chart.js';
import { formatTable } from './lib/table.js';
import { type Timing, measure, median } from './lib/timing.js';

/** The prompt fills one prefill chunk (lib/decoders.ts: CHUNK). */
const PROMPT = 128;

const MODELS: Readonly<Record<string, ModelSpec>> = {
  'gpt2-124m': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 } },
  'gpt2-124m-sparse80': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 }, sparsity: 0.8 },
  'gpt2-124m-f16': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 }, weightsDtype: 'f16' },
  'gpt2-124m-w4': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 }, bits: { bits: 'w4f16', group: 128 } },
  'gpt2-124m-w4a8': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 }, bits: { bits: 'w4a8', group: 128, layers: { '^wte': 'w4f16' } } },
  'gpt2-124m-pruned': { family: 'gpt2', preset: 'gpt2-124m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 3, runs: 30 }, prune: { ratio: 0.5, heads: 0.25 } },
  'llama-500m': { family: 'llama', preset: 'llama-500m', prefill: { warmup: 1, runs: 3 }, decode: { warmup: 2, runs: 5 } },
};

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    cache: { type: 'string', default: '.bench-cache' },
    svg: { type: 'string', default: 'bench/out/decode.svg' },
  },
});

const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[decode ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

// ---- measurement -------------------------------------------------------------------------------------------

/** A model's session after its prefill timing and check, ready to take decode steps. */
interface Opened {
  readonly session: Session;
  readonly prefill: Timing;
  /** The first decode step's next_token equals the argmax of its logits. */
  readonly argmaxAgrees: boolean;
  /** One decode step at the next position, feeding back the previous token and reading back only next_token. */
  step(): Promise<void>;
}

interface Measured {
  readonly prefill: Timing;
  readonly decode: Timing;
  readonly argmaxAgrees: boolean;
}

async function openSession(p: Prepared, device: AcquiredDevice): Promise<Opened> {
  log(`${p.name}: loading the session ...`);
  const session = await Session.load(p.artifactDir, { device });
  try {
    const g = session.manifest.generation!;
    const prompt = promptIds(PROMPT, g.vocabSize);
    let token = -1;
    const prefill = async (): Promise<void> => {
      const out = await session.run({ [g.ids]: prompt, [g.position]: [0], [g.length]: [PROMPT] }, g.prefill, { outputs: [g.nextToken] });
      token = Number(out[g.nextToken]!.data[0]);
    };
    const decodeSteps = 1 + p.spec.decode.warmup + p.spec.decode.runs;
    if (PROMPT + decodeSteps > g.maxSeq) throw new Error(`${decodeSteps} decode steps after ${PROMPT} prompt tokens overflow the ${g.maxSeq}-position cache`);

    log(`${p.name}: prefill (${p.spec.prefill.warmup} warm-up + ${p.spec.prefill.runs} timed runs) ...`);
    const prefillTiming = await measure(prefill, p.spec.prefill);
    // The last prefill left the prompt in the cache and its next token in `token`. The first decode step also
    // reads back the logits, for the check.
    const first = await session.run({ [g.ids]: [token], [g.position]: [PROMPT], [g.length]: [1] }, g.decode, { outputs: [g.nextToken, g.logits] });
    const firstToken = Number(first[g.nextToken]!.data[0]);
    const best = argmax(first[g.logits]!.data as ArrayLike<number>);
    log(`${p.name}: first decode step: next_token ${firstToken}, argmax of its logits ${best}`);
    token = firstToken;
    let position = PROMPT + 1;
    const step = async (): Promise<void> => {
      const out = await session.run({ [g.ids]: [token], [g.position]: [position], [g.length]: [1] }, g.decode, { outputs: [g.nextToken] });
      token = Number(out[g.nextToken]!.data[0]);
      position++;
    };
    return { session, prefill: prefillTiming, argmaxAgrees: firstToken === best, step };
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/**
 * Decode steps of every opened model, interleaved: the warm-up steps, then rounds in which each model still owed
 * runs takes one timed step, the order rotating by one each round. On a shared machine the load drifts over
 * minutes (one model's median moved 30 % between runs minutes apart), so models timed one after another compare
 * moments, not models; interleaved, every model's samples span the same moments. Steps that throw drop the model.
 */
async function interleavedDecode(opened: ReadonlyMap<string, Opened & { readonly spec: Prepared['spec'] }>, problems: string[]): Promise<Map<string, Timing>> {
  const live = new Map(opened);
  const samples = new Map<string, number[]>([...live.keys()].map((n) => [n, []]));
  const attempt = async (name: string, timed: boolean): Promise<void> => {
    const o = live.get(name);
    if (!o) return;
    try {
      const t0 = performance.now();
      await o.step();
      if (timed) samples.get(name)!.push(performance.now() - t0);
    } catch (e) {
      problems.push(`${name}: decode: ${message(e)}`);
      live.delete(name);
    }
  };
  const names = [...live.keys()];
  log(`decode, interleaved: ${names.map((n) => `${n} ${opened.get(n)!.spec.decode.warmup} + ${opened.get(n)!.spec.decode.runs}`).join(', ')} (warm-up + timed steps) ...`);
  for (const n of names) for (let i = 0; i < opened.get(n)!.spec.decode.warmup; i++) await attempt(n, false);
  const rounds = Math.max(0, ...names.map((n) => opened.get(n)!.spec.decode.runs));
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length]!;
      if (r < opened.get(n)!.spec.decode.runs) await attempt(n, true);
    }
  const out = new Map<string, Timing>();
  for (const n of live.keys()) {
    const xs = samples.get(n)!;
    out.set(n, { medianMs: median(xs), minMs: Math.min(...xs), meanMs: xs.reduce((a, b) => a + b, 0) / xs.length, runs: xs.length });
  }
  return out;
}

// ---- main --------------------------------------------------------------------------------------------------

process.env.XDG_RUNTIME_DIR ??= '/tmp';
const names = args.model ?? Object.keys(MODELS);
for (const n of names) if (!MODELS[n]) throw new Error(`unknown model '${n}' (have: ${Object.keys(MODELS).join(', ')})`);

const problems: string[] = [];
/** Per requested model: what was compiled, or why it could not be. */
const prepared = new Map<string, Prepared | { readonly error: string }>();
for (const n of names) {
  try {
    prepared.set(n, await prepare(args.cache!, n, MODELS[n]!, log));
  } catch (e) {
    prepared.set(n, { error: message(e) });
    problems.push(`${n}: ${message(e)}`);
  }
}
const compiled = [...prepared.values()].filter((p): p is Prepared => !('error' in p));

// One device for every session: the union of the manifests' features (the sparse artifact stores f16 values and
// requires shader-f16) and their largest limits.
const device = await acquireDevice({
  features: [...new Set(compiled.flatMap((p) => p.manifest.requires.features))] as GPUFeatureName[],
  limits: requiredLimits(compiled.map((p) => p.manifest)),
});
log(`adapter: ${device.adapterInfo}`);
const measured = new Map<string, Measured>();
// One roofline for every model, measured right after the interleaved decode steps on the same device.
let roofline: Bandwidth | undefined;
const opened = new Map<string, Opened & { readonly spec: Prepared['spec'] }>();
try {
  for (const p of compiled) {
    try {
      const o = await openSession(p, device);
      opened.set(p.name, { ...o, spec: p.spec });
      if (!o.argmaxAgrees) problems.push(`${p.name}: the first decode step's next_token is not the argmax of its logits`);
    } catch (e) {
      problems.push(`${p.name}: ${message(e)}`);
    }
  }
  const decoded = await interleavedDecode(opened, problems);
  for (const [n, o] of opened) {
    const d = decoded.get(n);
    if (d) measured.set(n, { prefill: o.prefill, decode: d, argmaxAgrees: o.argmaxAgrees });
  }
  try {
    log('read bandwidth roofline ...');
    roofline = await measureReadBandwidth(device.device, { onProgress: log });
  } catch (e) {
    problems.push(`read bandwidth: ${message(e)}`);
  }
} finally {
  for (const o of opened.values()) o.session.dispose();
  device.release();
}

const round = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(4)));
const rows = names.map((n) => {
  const p = prepared.get(n)!;
  if ('error' in p) return { model: n, params: '-', weightsMB: null, prefillTokPerS: null, decodeTokPerS: null, decodeGBps: null, rooflineGBps: null, argmax: '-' };
  const m = measured.get(p.name);
  const weightsBytes = p.manifest.memory?.weightsBytes ?? NaN;
  const decodeS = m ? m.decode.medianMs / 1000 : NaN;
  return {
    model: p.name,
    params: `${(p.parameters / 1e6).toFixed(1)}M`,
    weightsMB: weightsBytes / 1e6,
    prefillTokPerS: m ? PROMPT / (m.prefill.medianMs / 1000) : null,
    decodeTokPerS: m ? 1 / decodeS : null,
    decodeGBps: m ? weightsBytes / decodeS / 1e9 : null,
    rooflineGBps: roofline?.gbps ?? null,
    argmax: m ? (m.argmaxAgrees ? 'ok' : 'MISMATCH') : '-',
  };
});
const layouts = roofline ? [`${roofline.layout} read of ${(roofline.bytes / 2 ** 20).toFixed(0)} MiB`] : [];

/** "vendor / architecture / device / description" -> "vendor, device": short enough for a chart title. */
const adapterShort = (info: string): string => {
  const [vendor, , name] = info.split(' / ');
  return [vendor, name].filter((s) => s && s !== '?').join(', ');
};
const svgPath = resolve(args.svg!);
mkdirSync(dirname(svgPath), { recursive: true });
writeFileSync(
  svgPath,
  barChartSvg({
    title: `kiln decode: weights GB/s vs read roofline (${adapterShort(device.adapterInfo)})`,
    yLabel: 'GB/s',
    series: ['decode (weights bytes / step)', 'read roofline (bandwidth kernel)'],
    groups: rows.map((r) => ({ label: r.model, values: [r.decodeGBps, r.rooflineGBps] })),
    width: 720,
  }),
);

const elapsed = (performance.now() - started) / 1000;
console.log(`adapter: ${device.adapterInfo}`);
console.log(
  `maxSeq ${MAX_SEQ}, prefill ${PROMPT} tokens at position 0, decode steps at positions ${PROMPT}+ (median of timed runs); ` +
    `decode steps of all models interleaved, round by round; decode GB/s = manifest weightsBytes / median decode step; ` +
    `roofline = the bandwidth kernel's median (${layouts.join(', ') || 'not measured'}) right after the decode rounds\n`,
);
console.log(
  formatTable(
    ['model', 'params', 'weights MB', 'prefill tok/s', 'decode tok/s', 'decode GB/s', 'roofline GB/s', 'efficiency %', 'argmax check'],
    rows.map((r) => [r.model, r.params, r.weightsMB, r.prefillTokPerS, r.decodeTokPerS, r.decodeGBps, r.rooflineGBps, r.decodeGBps !== null && r.rooflineGBps ? (100 * r.decodeGBps) / r.rooflineGBps : null, r.argmax]),
  ),
);
if (problems.length) console.log(`\nproblems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
const dense = rows.find((r) => r.model === 'gpt2-124m');
const sparse = rows.find((r) => r.model === 'gpt2-124m-sparse80');
if (dense?.decodeTokPerS && sparse?.decodeTokPerS)
  console.log(`\ngpt2-124m at 80 % sparsity decodes ${(sparse.decodeTokPerS / dense.decodeTokPerS).toFixed(2)}x as fast as dense (${sparse.decodeTokPerS > dense.decodeTokPerS ? 'faster' : 'NOT faster'})`);
const w4 = rows.find((r) => r.model === 'gpt2-124m-w4');
if (dense?.decodeTokPerS && w4?.decodeTokPerS) console.log(`gpt2-124m at w4 (weights only, groups of 128, tied embedding and head included) decodes ${(w4.decodeTokPerS / dense.decodeTokPerS).toFixed(2)}x as fast as with f32 weights`);
const w4a8 = rows.find((r) => r.model === 'gpt2-124m-w4a8');
if (dense?.decodeTokPerS && w4a8?.decodeTokPerS) console.log(`gpt2-124m at w4a8 (the tied embedding and head w4f16, groups of 128) decodes ${(w4a8.decodeTokPerS / dense.decodeTokPerS).toFixed(2)}x as fast as with f32 weights`);
const pruned = rows.find((r) => r.model === 'gpt2-124m-pruned');
if (dense?.decodeTokPerS && pruned?.decodeTokPerS)
  console.log(`gpt2-124m with half of each MLP and a quarter of the heads pruned decodes ${(pruned.decodeTokPerS / dense.decodeTokPerS).toFixed(2)}x as fast as unpruned`);
const narrow = rows.find((r) => r.model === 'gpt2-124m-f16');
if (dense?.decodeTokPerS && narrow?.decodeTokPerS)
  console.log(`gpt2-124m with f16 weights decodes ${(narrow.decodeTokPerS / dense.decodeTokPerS).toFixed(2)}x as fast as with f32 weights`);
console.log(`\nchart: ${svgPath}`);
console.log(`total time: ${elapsed.toFixed(0)} s`);
console.log(
  JSON.stringify({
    rows: rows.map((r) => ({ model: r.model, prefillTokPerS: round(r.prefillTokPerS), decodeTokPerS: round(r.decodeTokPerS), decodeGBps: round(r.decodeGBps), rooflineGBps: round(r.rooflineGBps) })),
  }),
);
process.exitCode = problems.length ? 1 : 0;
