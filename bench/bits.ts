// npm run bench:bits — low-bit matmul y[N, M] = x[N, K] . W^T for W[M, K] (a Linear weight), on one adapter:
//   kiln f32, f16        dense weights (arranged GEMV panels; f16 through a fused widening cast)
//   kiln w<n>f16         weights only (bitpack w<n>f16, scales per 128 inputs): the quant GEMV decodes the codes in
//                        registers (codes in its quad layout; activations shared through subgroups where the
//                        adapter has them, as every kiln variant is compiled for it); activations stay f32
//   kiln w<n>a<m>        weights and activations as codes (bitpack w<n>a<m>): QuantizeRows, then the exact
//                        BitMatMul (papers.md §3: an integer GEMV, dot4I8Packed for a8 x w8/w4/w2 and XOR for
//                        w1a1, with the float scaling fused; else bit planes); wt: ternary weights (-1, 0, +1)
//   ORT nbits<b>         onnxruntime's WebGPU EP, com.microsoft.MatMulNBits (block 128, zero points), f32 A
//   ORT f16              onnxruntime's WebGPU EP, MatMul with an f16 weight
// with the read ceiling (bench/lib/bandwidth.ts) measured in the same run; each row shows the packed weight's GB/s
// (codes, scales and zero points as stored) and its fraction of the ceiling, and the speedup over kiln's dense f16.
// Outputs are compared with a float64 product of the float weight: the error column is the quantization's.
// Per N the variants' timed runs are interleaved (one run of each per round), medians reported.
// Prints a table, saves a bar chart (bench/out/bits.svg) and ends with one JSON line
// {"ceilingGBps", "rows": [{"m","k","n","variant","ms","ortMs","gbps","ceilingGbps","error"}]}.
// Usage: npm run bench:bits [-- --shape 4096x4096 --n 1 --n 16 --variant w4f16 --runs 10 --warmup 2]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type * as ort from 'onnxruntime-node';
import { compileProgram } from '../compiler/compile.js';
import { artifactFiles } from '../compiler/emit/in-memory.js';
import { GraphBuilder, makeTensor, roundToDType, tensorType } from '../ir/index.js';
import { profileForAdapter } from '../passes/sparse/profiles.js';
import { type AcquiredDevice, acquireDevice } from '../runtime/device.js';
import { f16FromBits } from '../runtime/codec.js';
import { Session } from '../runtime/index.js';
import { ortOrSkip } from '../scripts/lib/ort.js';
import { matMulNBitsModel, quantizeBlocks } from '../scripts/lib/quant-writers.js';
import { measureReadBandwidth } from './lib/bandwidth.js';
import { f16Words, matMulModel, strictWebGpuSession } from './lib/sparse-ort.js';
import { barChartSvg } from './lib/svg-chart.js';
import { fmt, formatTable } from './lib/table.js';
import { median } from './lib/timing.js';
import { linearReference, random } from './lib/random.js';

const KILN = ['f32', 'f16', 'w8f16', 'w4f16', 'w2f16', 'wtf16', 'w1f16', 'w8a8', 'w4a8', 'w2a8', 'w4a4', 'w3a4', 'w2a2', 'wta8', 'w1a1'] as const;
const ORT = ['ort-nbits8', 'ort-nbits4', 'ort-nbits2', 'ort-f16'] as const;
type Variant = (typeof KILN)[number] | (typeof ORT)[number];

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', multiple: true, default: ['4096x4096'] },
    n: { type: 'string', multiple: true, default: ['1', '16'] },
    variant: { type: 'string', multiple: true, default: [...KILN, ...ORT] },
    group: { type: 'string', default: '128' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    svg: { type: 'string', default: 'bench/out/bits.svg' },
  },
});
const RUNS = Number(args.runs);
const WARMUP = Number(args.warmup);
const GROUP = Number(args.group);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const unknown = (args.variant as string[]).filter((v) => ![...KILN, ...ORT].includes(v as Variant));
if (unknown.length) throw new Error(`bench:bits: unknown variant(s) ${unknown.join(', ')} (known: ${[...KILN, ...ORT].join(' ')})`);

interface Row {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly variant: Variant;
  readonly ms: number | null;
  /** Bytes of the weight as the engine stores it. */
  readonly bytes: number;
  readonly error: number | null;
}


/** The bytes a variant stores for an M x K weight (codes, plus a 4-byte scale per group; ORT: and a zero point). */
function weightBytes(v: Variant, m: number, k: number): number {
  const groups = m * Math.ceil(k / GROUP);
  if (v === 'f32') return m * k * 4;
  if (v === 'f16' || v === 'ort-f16') return m * k * 2;
  const nbits = /^ort-nbits(\d)$/.exec(v);
  if (nbits) return (m * k * Number(nbits[1])) / 8 + groups * 4 + groups;
  const bits = v.startsWith('wt') ? 2 : Number(/^w(\d)/.exec(v)![1]);
  return (m * k * bits) / 8 + groups * 4 + (bits === 1 ? groups * 4 : 0);
}

async function kilnSession(v: (typeof KILN)[number], w: Float32Array, m: number, k: number, n: number, device: AcquiredDevice): Promise<Session> {
  // Compiled for what the device has (subgroups: the quant GEMV shares activations through them).
  const b = new GraphBuilder('bits');
  const x = b.input('x', tensorType('f32', [n, k]));
  b.output(b.op('Gemm', [x, b.constant(makeTensor('f32', [m, k], w), 'w')], { transB: 1 }, { names: ['y'] }));
  const quant = v === 'f32' || v === 'f16' ? {} : { bits: { bits: v, group: GROUP } };
  const artifact = compileProgram(
    { name: `bits_${m}x${k}`, entries: { run: { graph: b.build() } } },
    { target: { shaderF16: false, subgroups: device.features.has('subgroups') }, profile: profileForAdapter(device.adapterInfo), weightsDtype: v === 'f16' ? 'f16' : 'f32', ...quant },
  );
  return Session.load(artifactFiles(artifact, `memory:bits_${m}x${k}x${n}_${v}`), { device });
}

function ortModelFor(v: (typeof ORT)[number], w: Float32Array, m: number, k: number): Uint8Array {
  if (v === 'ort-f16') {
    const wT = new Float32Array(k * m);
    for (let r = 0; r < m; r++) for (let c = 0; c < k; c++) wT[c * m + r] = roundToDType(w[r * k + c]!, 'f16');
    return matMulModel(wT, k, m);
  }
  const bits = Number(v.slice(-1));
  return matMulNBitsModel(quantizeBlocks((r, c) => w[r * k + c]!, m, k, bits, GROUP), { zeros: 'packed', lead: ['n'] });
}

function relError(got: ArrayLike<number>, ref: Float64Array): number {
  let [err, scale] = [0, 0];
  for (let i = 0; i < ref.length; i++) [err, scale] = [Math.max(err, Math.abs(got[i]! - ref[i]!)), Math.max(scale, Math.abs(ref[i]!))];
  return err / (scale || 1);
}

/** A variant's run function and its error against the float reference, ready for the interleaved timings. */
interface Runner {
  readonly v: Variant;
  readonly run: () => Promise<unknown>;
  readonly error: number;
  readonly release: () => Promise<void>;
}

async function runnerFor(v: Variant, w: Float32Array, x: Float32Array, ref: Float64Array, m: number, k: number, n: number, device: AcquiredDevice): Promise<Runner> {
  if ((KILN as readonly string[]).includes(v)) {
    const session = await kilnSession(v as (typeof KILN)[number], w, m, k, n, device);
    const run = async () => (await session.run({ x })).y!.data;
    return { v, run, error: relError(await run(), ref), release: async () => session.dispose() };
  }
  const { Tensor } = await import('onnxruntime-node');
  const session = await strictWebGpuSession(ortModelFor(v as (typeof ORT)[number], w, m, k));
  const input = v === 'ort-f16' ? new Tensor('float16', f16Words(x), [n, k]) : new Tensor('float32', x, [n, k]);
  const run = async () => Object.values(await session.run({ [session.inputNames[0]!]: input }))[0]!.data as ArrayLike<number>;
  // A float16 output holds bit patterns.
  const out = Array.from(await run(), (b) => (v === 'ort-f16' ? f16FromBits(Number(b)) : Number(b)));
  return { v, run, error: relError(out, ref), release: () => session.release() };
}

/**
 * Per N, every variant's session is loaded first; then the timed runs go round-robin over the variants (one run
 * of each per round), so a slow spell of the shared CPU (the adapter's threads compete with everything else) hits
 * all of them alike instead of whichever variant ran then. Medians per variant.
 */
async function benchShape(m: number, k: number, ns: number[], variants: Variant[], device: AcquiredDevice, haveOrt: boolean): Promise<Row[]> {
  const seed = Number(args.seed);
  const w = random(m * k, seed, 0.1);
  const rows: Row[] = [];
  for (const n of ns) {
    const x = random(n * k, seed + n, 2);
    const ref = linearReference(w, x, m, k, n);
    const runners: Runner[] = [];
    for (const v of variants) {
      if (!(KILN as readonly string[]).includes(v) && !haveOrt) continue;
      log(`${m}x${k} N=${n} ${v} ...`);
      try {
        runners.push(await runnerFor(v, w, x, ref, m, k, n, device));
      } catch (e) {
        log(`FAILED ${m}x${k} N=${n} ${v}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const samples = new Map<Runner, number[]>(runners.map((r) => [r, []]));
    for (const r of runners) for (let i = 0; i < WARMUP; i++) await r.run();
    for (let round = 0; round < RUNS; round++)
      for (const r of runners) {
        const t0 = performance.now();
        await r.run();
        samples.get(r)!.push(performance.now() - t0);
      }
    for (const v of variants) {
      const r = runners.find((x) => x.v === v);
      rows.push({ m, k, n, variant: v, bytes: weightBytes(v, m, k), error: r ? r.error : null, ms: r ? median(samples.get(r)!) : null });
    }
    for (const r of runners) await r.release();
  }
  return rows;
}

async function main(): Promise<void> {
  const haveOrt = ortOrSkip('bench:bits', 'the ORT rows are left out (null)') !== undefined;
  const device = await acquireDevice({ optionalFeatures: ['subgroups'] });
  log(`adapter: ${device.adapterInfo}`);
  // The ceiling is probed before and after the timings and the higher figure kept: on a shared CPU adapter a probe
  // taken after onnxruntime's sessions ran has read 40 % low (5.3 GB/s against 8.6-9.2 at the start).
  log('measuring the read ceiling ...');
  const before = await measureReadBandwidth(device.device, { runs: Math.max(3, RUNS) });
  const variants = args.variant as Variant[];
  const ns = (args.n as string[]).map(Number);
  const rows: Row[] = [];
  for (const [m, k] of (args.shape as string[]).map((s) => s.split('x').map(Number) as [number, number])) rows.push(...(await benchShape(m, k, ns, variants, device, haveOrt)));
  log('measuring the read ceiling again ...');
  const after = await measureReadBandwidth(device.device, { runs: Math.max(3, RUNS) });
  const ceiling = before.gbps >= after.gbps ? before : after;
  log(`read ceiling: ${before.gbps.toFixed(2)} GB/s before the timings, ${after.gbps.toFixed(2)} after`);
  const gbps = (r: Row): number | null => (r.ms === null ? null : r.bytes / (r.ms * 1e6));
  const base = (r: Row): Row | undefined => rows.find((o) => o.m === r.m && o.k === r.k && o.n === r.n && o.variant === 'f16');
  const ortOf = (r: Row): Row | undefined => {
    const peer = r.variant === 'f16' ? 'ort-f16' : /^w([248])f16$/.test(r.variant) ? `ort-nbits${r.variant[1]}` : undefined;
    return rows.find((o) => o.m === r.m && o.k === r.k && o.n === r.n && o.variant === peer);
  };
  const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a == null || b == null ? 'n/a' : `${(b / a).toFixed(2)}x`);
  console.log(`\nlow-bit GEMV/GEMM y = x . W^T, median of ${RUNS} runs; read ceiling ${ceiling.gbps.toFixed(2)} GB/s (${ceiling.layout} probe, the higher of ${before.gbps.toFixed(2)} before and ${after.gbps.toFixed(2)} after the timings); groups of ${GROUP}`);
  console.log(
    formatTable(
      ['shape', 'N', 'variant', 'ms', 'weight MB', 'GB/s', '% ceil', 'vs kiln f16', 'ORT peer ms', 'vs ORT peer', 'error vs float'],
      rows.map((r) => [
        `${r.m} x ${r.k}`,
        String(r.n),
        r.variant,
        fmt(r.ms),
        (r.bytes / 1e6).toFixed(2),
        fmt(gbps(r)),
        gbps(r) === null ? 'n/a' : `${((100 * gbps(r)!) / ceiling.gbps).toFixed(0)} %`,
        ratio(r.ms, base(r)?.ms),
        fmt(ortOf(r)?.ms ?? null),
        ratio(r.ms, ortOf(r)?.ms),
        r.error === null ? 'n/a' : r.error.toExponential(1),
      ]),
    ),
  );
  const n1 = rows.filter((r) => r.n === ns[0]);
  const svg = barChartSvg({
    title: `N=${ns[0]}: ms per product (read ceiling ${ceiling.gbps.toFixed(2)} GB/s)`,
    yLabel: 'ms',
    series: ['ms'],
    groups: n1.map((r) => ({ label: `${r.m}x${r.k} ${r.variant}`, values: [r.ms] })),
  });
  mkdirSync(dirname(args.svg!), { recursive: true });
  writeFileSync(args.svg!, svg);
  log(`chart: ${args.svg}`);
  console.log(
    JSON.stringify({
      ceilingGBps: ceiling.gbps,
      ceilingProbesGBps: [before.gbps, after.gbps],
      runs: RUNS,
      group: GROUP,
      rows: rows.map((r) => ({ m: r.m, k: r.k, n: r.n, variant: r.variant, ms: r.ms, ortMs: ortOf(r)?.ms ?? null, gbps: gbps(r), ceilingGbps: ceiling.gbps, error: r.error })),
    }),
  );
  device.release();
  const broken = rows.filter((r) => r.ms !== null && (r.error === null || !Number.isFinite(r.error)));
  if (broken.length) {
    log(`non-finite outputs for: ${broken.map((r) => `${r.m}x${r.k} N=${r.n} ${r.variant}`).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
