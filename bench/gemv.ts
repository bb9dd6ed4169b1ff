// npm run bench:gemv — the decode GEMV y[1, M] = x[1, K] . W^T for W[M, K] (a Linear weight: Gemm transB, as
// bench:sparse and PyTorch exports have it), f32 and f16 weights, three ways on the same adapter:
//   kiln arranged    arrange-layout stores W in panels; the arranged GEMV kernel streams them (compiler/kernels/gemv-arranged.ts)
//   kiln row-major   the same compile with --layout row-major: the skinny kernel over W as it is (the baseline)
//   ORT WebGPU       onnxruntime's WebGPU EP, one MatMul with W^T [K, M] as initializer (CPU fallback disabled)
// with the read ceiling (bench/lib/bandwidth.ts) measured in the same run, each engine's GB/s of weights and its
// fraction of that ceiling. kiln's two outputs are checked against a float64 reference of the stored weights.
// The prefill GEMM y[N, M] = x[N, K] . W^T (default 4096 x 4096 x 128, f32) the same three ways: the arranged
// kernel over the same panels in blocks of 8 rows, the row-major tiled kernel (kiln's previous prefill kernel,
// what --layout row-major compiles), ORT WebGPU's MatMul; its rows report GFLOP/s and the speedup over tiled.
// Prints a table, saves a bar chart (bench/out/gemv.svg) and ends with one JSON line {"ceilingGBps", "rows": [...]}.
// Usage: npm run bench:gemv [-- --runs 10 --warmup 2 --shape 4096x4096 --dtype f16 --gemm 4096x4096x128 --svg bench/out/gemv.svg]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs/light.js';
import type * as ort from 'onnxruntime-node';
import { compileProgram } from '../compiler/compile.js';
import { artifactFiles } from '../compiler/emit/in-memory.js';
import { GraphBuilder, makeTensor, roundToDType, tensorType } from '../ir/index.js';
import { ONNX_SCHEMA } from '../ir/import/onnx/onnx-schema.js';
import { profileForAdapter } from '../passes/sparse/profiles.js';
import { acquireDevice, type AcquiredDevice } from '../runtime/device.js';
import { Session } from '../runtime/index.js';
import { ortOrSkip } from '../scripts/lib/ort.js';
import { measureReadBandwidth } from './lib/bandwidth.js';
import { f16Tensor, f16Words, strictWebGpuSession } from './lib/sparse-ort.js';
import { barChartSvg } from './lib/svg-chart.js';
import { fmt, formatTable } from './lib/table.js';
import { measure } from './lib/timing.js';
import { linearReference, random } from './lib/random.js';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', multiple: true, default: ['4096x4096', '11008x4096'] },
    gemm: { type: 'string', multiple: true, default: ['4096x4096x128'] },
    'gemm-runs': { type: 'string', default: '3' },
    dtype: { type: 'string', multiple: true, default: ['f32', 'f16'] },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    svg: { type: 'string', default: 'bench/out/gemv.svg' },
  },
});
const RUNS = Number(args.runs);
const WARMUP = Number(args.warmup);
const log = (s: string): void => void process.stderr.write(`${s}\n`);
type Dtype = 'f32' | 'f16';
type Engine = 'arranged' | 'row-major' | 'ort';

interface Row {
  readonly m: number;
  readonly k: number;
  /** Activation rows: 1 for the GEMV rows, N for the GEMM ones. */
  readonly n: number;
  readonly dtype: Dtype;
  readonly ms: Record<Engine, number | null>;
  /** max |y - ref| / max |ref| of kiln's outputs (ORT is reported, not checked: its f16 path accumulates in f16). */
  readonly error: Record<'arranged' | 'row-major', number | null>;
}


/** kiln: one program, Gemm(x, W[M,K], transB) -> y, compiled with the given layout and weight dtype. */
async function kilnSession(w: Float32Array, m: number, k: number, n: number, dtype: Dtype, layout: 'auto' | 'row-major', device: AcquiredDevice): Promise<Session> {
  const b = new GraphBuilder('gemv');
  const x = b.input('x', tensorType('f32', [n, k]));
  b.output(b.op('Gemm', [x, b.constant(makeTensor('f32', [m, k], w), 'w')], { transB: 1 }, { names: ['y'] }));
  // Compiled for the adapter it runs on (as --device-profile auto): the profile decides panels and their use for N > 8.
  const artifact = compileProgram({ name: `gemv_${m}x${k}`, entries: { run: { graph: b.build() } } }, { target: { shaderF16: false }, profile: profileForAdapter(device.adapterInfo), weightsDtype: dtype, layout });
  return Session.load(artifactFiles(artifact, `memory:gemv_${m}x${k}x${n}_${dtype}_${layout}`), { device });
}

/** ORT: MatMul(x[1,K], W^T[K,M]) in the weight's dtype (f16 x for f16 weights: ORT's MatMul takes one type). */
function ortModel(w: Float32Array, m: number, k: number, n: number, dtype: Dtype): Uint8Array {
  const wT = new Float32Array(k * m);
  for (let r = 0; r < m; r++) for (let c = 0; c < k; c++) wT[c * m + r] = w[r * k + c]!;
  const elem = dtype === 'f16' ? 10 : 1;
  const raw = dtype === 'f16' ? new Uint8Array(f16Words(wT).buffer) : new Uint8Array(wT.buffer);
  const io = (name: string, d: number): object => ({ name, type: { tensor_type: { elem_type: elem, shape: { dim: [{ dim_value: n }, { dim_value: d }] } } } });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    producer_name: 'kiln-bench-gemv',
    graph: { name: 'gemv', node: [{ op_type: 'MatMul', input: ['x', 'w'], output: ['y'] }], initializer: [{ name: 'w', data_type: elem, dims: [k, m], raw_data: raw }], input: [io('x', k)], output: [io('y', m)] },
  };
  const type = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return type.encode(type.fromObject(model)).finish();
}

function relError(got: ArrayLike<number>, ref: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / (scale || 1);
}

async function benchShape(m: number, k: number, n: number, dtype: Dtype, device: AcquiredDevice, haveOrt: boolean, runs: number): Promise<Row> {
  const label = `${m}x${k}${n > 1 ? `x${n}` : ''} ${dtype}`;
  const seed = Number(args.seed);
  const w = random(m * k, seed, 0.1);
  if (dtype === 'f16') for (let i = 0; i < w.length; i++) w[i] = roundToDType(w[i]!, 'f16');
  const x = random(n * k, seed + 1, 2);
  const ref = linearReference(w, x, m, k, n);
  const row: Row = { m, k, n, dtype, ms: { arranged: null, 'row-major': null, ort: null }, error: { arranged: null, 'row-major': null } };
  for (const layout of ['auto', 'row-major'] as const) {
    const engine = layout === 'auto' ? 'arranged' : 'row-major';
    log(`${label}: compiling kiln ${engine} ...`);
    try {
      const session = await kilnSession(w, m, k, n, dtype, layout, device);
      try {
        const run = async () => (await session.run({ x })).y!.data;
        row.error[engine] = relError(await run(), ref);
        row.ms[engine] = (await measure(run, { warmup: Math.min(WARMUP, runs), runs })).medianMs;
      } finally {
        session.dispose();
      }
    } catch (e) {
      log(`FAILED ${label} kiln ${engine}: ${(e as Error).message}`);
    }
  }
  if (haveOrt) {
    log(`${label}: ORT WebGPU ...`);
    let session: ort.InferenceSession | undefined;
    try {
      session = await strictWebGpuSession(ortModel(w, m, k, n, dtype));
      const { Tensor } = await import('onnxruntime-node');
      const input = dtype === 'f16' ? f16Tensor(f16Words(x), [n, k]) : new Tensor('float32', x, [n, k]);
      row.ms.ort = (await measure(() => session!.run({ x: input }), { warmup: Math.min(WARMUP, runs), runs })).medianMs;
    } catch (e) {
      log(`FAILED ${label} ORT WebGPU: ${(e as Error).message}`);
    } finally {
      await session?.release();
    }
  }
  return row;
}

async function main(): Promise<void> {
  const haveOrt = ortOrSkip('bench:gemv', 'the ORT WebGPU timings are left out (null)') !== undefined;
  const device = await acquireDevice();
  log(`adapter: ${device.adapterInfo}`);
  const shapes = (args.shape as string[]).map((s) => s.split('x').map(Number) as [number, number]);
  const rows: Row[] = [];
  for (const [m, k] of shapes) for (const dtype of args.dtype as Dtype[]) rows.push(await benchShape(m, k, 1, dtype, device, haveOrt, RUNS));
  const gemms: Row[] = [];
  for (const [m, k, n] of (args.gemm as string[]).map((s) => s.split('x').map(Number) as [number, number, number]))
    gemms.push(await benchShape(m, k, n, 'f32', device, haveOrt, Number(args['gemm-runs'])));
  log('measuring the read ceiling ...');
  const ceiling = await measureReadBandwidth(device.device, { runs: Math.max(3, RUNS) });
  const gbps = (r: Row, e: Engine): number | null => (r.ms[e] === null ? null : (r.m * r.k * (r.dtype === 'f32' ? 4 : 2)) / (r.ms[e]! * 1e6));
  const pct = (g: number | null): string => (g === null ? 'n/a' : `${((100 * g) / ceiling.gbps).toFixed(0)} %`);
  const engines: Engine[] = ['arranged', 'row-major', 'ort'];
  console.log(`\nGEMV y = x . W^T, N = 1, median of ${RUNS} runs; read ceiling ${ceiling.gbps.toFixed(2)} GB/s (${ceiling.layout} probe, same run)`);
  console.log(
    formatTable(
      ['shape', 'weights', ...engines.flatMap((e) => [`${e} ms`, `${e} GB/s`, `${e} % ceil`]), 'arranged err', 'row-major err'],
      rows.map((r) => [`${r.m} x ${r.k}`, r.dtype, ...engines.flatMap((e) => [fmt(r.ms[e]), fmt(gbps(r, e)), pct(gbps(r, e))]), r.error.arranged?.toExponential(1), r.error['row-major']?.toExponential(1)]),
    ),
  );
  const gflops = (r: Row, e: Engine): number | null => (r.ms[e] === null ? null : (2 * r.m * r.k * r.n) / (r.ms[e]! * 1e6));
  const ratio = (a: number | null, b: number | null): string => (a === null || b === null ? 'n/a' : `${(b / a).toFixed(2)}x`);
  if (gemms.length) {
    console.log(`\nPrefill GEMM y = x . W^T, median of ${args['gemm-runs']} runs: arranged (panels, blocks of 8 rows) vs row-major tiled (the previous kernel) vs ORT WebGPU`);
    console.log(
      formatTable(
        ['shape (M x K x N)', 'weights', ...engines.flatMap((e) => [`${e} ms`, `${e} GFLOP/s`]), 'arranged vs tiled', 'arranged vs ort', 'arranged err', 'tiled err'],
        gemms.map((r) => [
          `${r.m} x ${r.k} x ${r.n}`,
          r.dtype,
          ...engines.flatMap((e) => [fmt(r.ms[e]), fmt(gflops(r, e))]),
          ratio(r.ms.arranged, r.ms['row-major']),
          ratio(r.ms.arranged, r.ms.ort),
          r.error.arranged?.toExponential(1),
          r.error['row-major']?.toExponential(1),
        ]),
      ),
    );
  }
  const svg = barChartSvg({
    title: `GEMV N=1: weight GB/s (read ceiling ${ceiling.gbps.toFixed(2)} GB/s)`,
    yLabel: 'GB/s of weights',
    series: ['kiln arranged', 'kiln row-major', 'ORT WebGPU', 'read ceiling'],
    groups: rows.map((r) => ({ label: `${r.m}x${r.k} ${r.dtype}`, values: [gbps(r, 'arranged'), gbps(r, 'row-major'), gbps(r, 'ort'), ceiling.gbps] })),
  });
  mkdirSync(dirname(args.svg!), { recursive: true });
  writeFileSync(args.svg!, svg);
  log(`chart: ${args.svg}`);
  const bad = [...rows, ...gemms].filter((r) => Object.values(r.error).some((e) => e === null || e > (r.dtype === 'f16' ? 1e-3 : 1e-4)));
  console.log(
    JSON.stringify({
      ceilingGBps: ceiling.gbps,
      runs: RUNS,
      rows: rows.map((r) => ({ ...r, gbps: Object.fromEntries(engines.map((e) => [e, gbps(r, e)])) })),
      gemm: gemms.map((r) => ({ ...r, gflops: Object.fromEntries(engines.map((e) => [e, gflops(r, e)])) })),
    }),
  );
  device.release();
  if (bad.length) {
    log(`kiln output outside tolerance (or missing) for: ${bad.map((r) => `${r.m}x${r.k} ${r.dtype}`).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
