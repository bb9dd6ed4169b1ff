// `npm run bench:models`: steady-state latency of real models in kiln (compiled artifact, runtime Session on
// WebGPU) and in onnxruntime-node's WebGPU EP, in one process on one adapter, with ORT's CPU EP for context.
// Each engine gets the same inputs (the model's reference test_data_set_0; for light-<net>, ONNX's light CNNs,
// the ONNX runner's arange input), ≥5 warm-up runs, then the median of ≥20 timed runs; one run = upload inputs,
// execute, read every output back. Outputs are compared (max abs diff). Per row: the speedup (ORT WebGPU ms /
// kiln ms, above 1 when kiln is faster) and the roofline fraction of kiln's run (the traffic model's summed
// dispatch roofline on this adapter / kiln's median; bench/lib/roofline.ts), which says how much of the gap to
// the hardware is left whatever ORT does. The last line printed is one JSON object:
// {"rows": [{"model", "kilnMs", "ortMs", "speedup", "rooflineFraction"}]} (null where an engine failed).
//
//   npm run bench:models [-- --model mnist-8 --model light-squeezenet --model synthetic --runs 50 --warmup 10]
import { parseArgs } from 'node:util';
import { maxAbsDiff } from './lib/compare.js';
import { type BenchModel, loadLightModel, loadSharedModel } from './lib/inputs.js';
import { kilnFeeds, kilnRun, kilnSession } from './lib/kiln.js';
import { type OrtEp, ortFeeds, ortRun, ortSession } from './lib/ort.js';
import { rooflineMs } from './lib/roofline.js';
import { ortOrSkip } from '../scripts/lib/ort.js';
import { syntheticModel } from './lib/synthetic.js';
import { formatTable } from './lib/table.js';
import { type Timing, measure } from './lib/timing.js';

const DEFAULT_MODELS = ['mnist-8', 'tiny-distilbert-sst2', 'light-resnet50', 'light-squeezenet'];

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
  },
});
const runs = Math.max(20, Number(args.runs));
const warmup = Math.max(5, Number(args.warmup));

interface EngineResult {
  readonly timing?: Timing;
  readonly outputs?: Record<string, Float64Array>;
  readonly adapter?: string;
  /** kiln only: the traffic model's roofline ms of one run on this adapter. */
  readonly rooflineMs?: number;
  readonly error?: string;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

async function benchKiln(model: BenchModel): Promise<EngineResult> {
  let session;
  try {
    session = await kilnSession(model);
  } catch (e) {
    return { error: `kiln: ${message(e)}` };
  }
  try {
    const feeds = kilnFeeds(session, model);
    const outputs = await kilnRun(session, feeds);
    const roofline = rooflineMs(session.manifest, session.mainEntry, session.adapterInfo);
    return { outputs, adapter: session.adapterInfo, rooflineMs: roofline, timing: await measure(() => session.run(feeds), { warmup, runs }) };
  } catch (e) {
    return { error: `kiln: ${message(e)}` };
  } finally {
    session.dispose();
  }
}

async function benchOrt(model: BenchModel, ep: OrtEp): Promise<EngineResult> {
  try {
    const session = await ortSession(model.bytes, ep);
    try {
      const feeds = ortFeeds(model.inputs);
      const outputs = await ortRun(session, feeds);
      return { outputs, timing: await measure(() => session.run(feeds), { warmup, runs }) };
    } finally {
      await session.release();
    }
  } catch (e) {
    return { error: `ort ${ep}: ${message(e)}` };
  }
}

/** Largest |x| over the outputs (the scale agreement is judged against). */
function scale(o: Record<string, Float64Array>): number {
  let m = 1;
  for (const a of Object.values(o)) for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function loadModel(name: string): BenchModel {
  if (name === 'synthetic') return syntheticModel();
  return name.startsWith('light-') ? loadLightModel(name.slice('light-'.length)) : loadSharedModel(name);
}

interface Row {
  readonly model: string;
  readonly kilnMs: number | null;
  readonly ortMs: number | null;
  /** ortMs / kilnMs: above 1 when kiln is faster. */
  readonly speedup: number | null;
  /** The traffic model's roofline ms of kiln's run / kiln's median ms. */
  readonly rooflineFraction: number | null;
}

const rows: Row[] = [];
const table: (string | number | null)[][] = [];
const problems: string[] = [];
let kilnAdapter: string | undefined;
// Without onnxruntime-node (one line says why) the ORT columns stay empty; with KILN_REQUIRE_ORT=1 this throws.
const haveOrt = ortOrSkip('bench:models', 'the ORT columns are left empty') !== undefined;

for (const name of args.model ?? DEFAULT_MODELS) {
  const model = loadModel(name);
  const kiln = await benchKiln(model);
  const gpu: EngineResult = haveOrt ? await benchOrt(model, 'webgpu') : {};
  const cpu: EngineResult = haveOrt ? await benchOrt(model, 'cpu') : {};
  kilnAdapter ??= kiln.adapter;
  const expected = Object.fromEntries((model.expected ?? []).map((t) => [t.name, t.values]));
  const vsOrt = kiln.outputs && gpu.outputs ? maxAbsDiff(kiln.outputs, gpu.outputs) : null;
  const vsRef = kiln.outputs && model.expected?.length ? maxAbsDiff(kiln.outputs, expected) : null;
  const ortVsRef = gpu.outputs && model.expected?.length ? maxAbsDiff(gpu.outputs, expected) : null;
  for (const r of [kiln, gpu, cpu]) if (r.error) problems.push(`${model.name}: ${r.error}`);
  if (vsOrt !== null && !(vsOrt <= 1e-3 * scale(gpu.outputs!))) problems.push(`${model.name}: kiln and ORT WebGPU outputs differ (max abs diff ${vsOrt})`);
  const kilnMs = kiln.timing?.medianMs ?? null;
  const ortMs = gpu.timing?.medianMs ?? null;
  const speedup = kilnMs && ortMs ? ortMs / kilnMs : null;
  const fraction = kilnMs && kiln.rooflineMs !== undefined ? kiln.rooflineMs / kilnMs : null;
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);
  // Fractions far below 1e-3 are expected on a software adapter, so 4 significant digits rather than 3 decimals.
  const sig = (x: number | null): number | null => (x === null ? null : Number(x.toPrecision(4)));
  rows.push({ model: model.name, kilnMs: round(kilnMs), ortMs: round(ortMs), speedup: sig(speedup), rooflineFraction: sig(fraction) });
  table.push([model.name, kilnMs, ortMs, cpu.timing?.medianMs ?? null, speedup, fraction === null ? null : 100 * fraction, vsOrt, vsRef, ortVsRef]);
}

console.log(`kiln adapter: ${kilnAdapter ?? '(no kiln session)'}; ORT WebGPU EP: Dawn's default adapter in the same process`);
console.log(`median ms per run over ${runs} runs after ${warmup} warm-up runs; speedup = ort webgpu / kiln webgpu (above 1: kiln faster);`);
console.log(`roofline % = the traffic model's summed dispatch roofline for this adapter / kiln's median, as in \`kiln profile\`\n`);
console.log(formatTable(['model', 'kiln webgpu', 'ort webgpu', 'ort cpu', 'speedup', 'roofline %', 'max|kiln-ort|', 'max|kiln-ref|', 'max|ort-ref|'], table));
if (problems.length) console.log(`\nproblems:\n${problems.map((p) => `  ${p}`).join('\n')}`);
console.log(JSON.stringify({ rows }));
process.exitCode = problems.length ? 1 : 0;
