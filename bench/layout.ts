// npm run bench:layout — the traffic model against the adapter, per weight layout and encoding. Every case is
// compiled for the local adapter's device profile and run in a Session on one device; each dispatch is timed by
// timestamp queries (compiler/tune/dispatch-timing.ts) and set beside the bytes and time the traffic model
// predicted for it (the manifest's cost.traffic). Cases:
//   decode matmuls of bench:decode's gpt2-124m and llama-500m (one activation row; Gemm transB weights as the
//   checkpoints hold them) in f32 and f16, each row-major (the skinny kernel) and arranged (panels), and f32
//   at 80 % sparsity as Tiled-CSL (layout does not apply: the sparse kernels read their own encoding);
//   the convolutions of mnist-8 and the light ResNet-50 (ONNX's node-test copy, constant weights), as compiled:
//   kiln has no conv arrangement yet, so they show how far the model is from the conv kernels.
// Quantized encodings do not exist yet (issue 14). Prints a table, saves bench/out/layout.svg, ends with one JSON
// line {"ceilingGBps", "spearman", "rows": [{"case","encoding","layout","kernels","modelBytes","modelMs","ms"}]}.
//   npm run bench:layout [-- --runs 5 --no-convs --svg bench/out/layout.svg]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CompileOptions, compileGraph } from '../compiler/compile.js';
import { artifactFiles } from '../compiler/emit/in-memory.js';
import { timeDispatches } from '../compiler/cli/dispatch-timing.js';
import { spearman } from '../compiler/traffic/index.js';
import { type Graph, GraphBuilder, decodeModel, importOnnx, makeTensor, tensorType } from '../ir/index.js';
import { profileForAdapter } from '../passes/sparse/profiles.js';
import { acquireDevice, type AcquiredDevice } from '../runtime/device.js';
import { type InputValue, Session } from '../runtime/index.js';
import { presetConfig } from '../scripts/lib/checkpoint-presets.js';
import { haveShared, sharedDir } from '../scripts/lib/shared.js';
import { measureReadBandwidth } from './lib/bandwidth.js';
import { barChartSvg } from './lib/svg-chart.js';
import { fmt, formatTable } from './lib/table.js';
import { median } from './lib/timing.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, 'no-convs': { type: 'boolean', default: false }, svg: { type: 'string', default: 'bench/out/layout.svg' } } });
const RUNS = Number(args.runs);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Row {
  readonly case: string;
  readonly encoding: string;
  readonly layout: string;
  readonly kernels: string;
  readonly modelBytes: number;
  readonly modelMs: number;
  readonly ms: number;
}

/** x[1, K] . W[M, K]^T, W seeded (|w| < 0.05: no denormal products). */
function gemv(m: number, k: number): Graph {
  const b = new GraphBuilder(`gemv_${m}x${k}`);
  const x = b.input('x', tensorType('f32', [1, k]));
  const w = makeTensor('f32', [m, k], (i) => Math.sin(i * 0.618) * 0.05);
  b.output(b.op('Gemm', [x, b.constant(w, 'w')], { transB: 1 }));
  return b.build();
}

/** Each dispatch of `g` compiled with `opts`, timed; `pick` chooses the dispatches a row reports (by label). */
async function measure(device: AcquiredDevice, g: Graph, opts: CompileOptions, feeds: Record<string, InputValue>, pick: (label: string) => string | undefined): Promise<Map<string, Omit<Row, 'case' | 'encoding' | 'layout'>>> {
  const artifact = compileGraph(g, { ...opts, source: 'bench:layout', profile: profileForAdapter(device.adapterInfo) });
  const session = await Session.load(artifactFiles(artifact, `memory:${g.name}`), { device });
  try {
    const { samples } = await timeDispatches(device, session, feeds, 'run', { runs: RUNS, warmup: 2 });
    const m = session.manifest;
    const out = new Map<string, { kernels: string[]; modelBytes: number; modelMs: number; ms: number }>();
    m.entryPoints.run!.dispatches.forEach((d, i) => {
      const key = pick(d.label);
      if (key === undefined) return;
      const row = out.get(key) ?? { kernels: [], modelBytes: 0, modelMs: 0, ms: 0 };
      const t = d.cost?.traffic;
      row.kernels.push(m.kernels.find((k) => k.id === d.kernel)!.file.replace(/^kernels\/|_[0-9a-f]+\.wgsl$/g, ''));
      row.modelBytes += (t?.bytesRead ?? 0) + (t?.bytesWritten ?? 0);
      row.modelMs += t?.ms ?? NaN;
      row.ms += median(samples[i]!);
      out.set(key, row);
    });
    return new Map([...out].map(([k, r]) => [k, { ...r, kernels: [...new Set(r.kernels)].join('+') }]));
  } finally {
    session.dispose();
  }
}

function decodeShapes(): [string, number, number][] {
  const g = presetConfig('gpt2', 'gpt2-124m') as Record<string, number>;
  const l = presetConfig('llama', 'llama-500m') as Record<string, number>;
  const h = g.n_embd!;
  const [lh, li] = [l.hidden_size!, l.intermediate_size!];
  const kv = (l.num_key_value_heads ?? l.num_attention_heads!) * (l.head_dim ?? lh / l.num_attention_heads!);
  return [
    ['gpt2 qkv', 3 * h, h], ['gpt2 proj', h, h], ['gpt2 fc', 4 * h, h], ['gpt2 fc-proj', h, 4 * h],
    ['llama q/o', lh, lh], ['llama k/v', kv, lh], ['llama gate/up', li, lh], ['llama down', lh, li],
  ];
}

async function main(): Promise<void> {
  const device = await acquireDevice({ optionalFeatures: ['timestamp-query'] as GPUFeatureName[], bestLimits: true });
  log(`adapter: ${device.adapterInfo}`);
  const rows: Row[] = [];
  const variants: [string, string, CompileOptions][] = [
    ['f32', 'row-major', { layout: 'row-major' }],
    ['f32', 'arranged', { layout: 'auto' }],
    ['f16', 'row-major', { layout: 'row-major', weightsDtype: 'f16' }],
    ['f16', 'arranged', { layout: 'auto', weightsDtype: 'f16' }],
    ['tiled-csl 80 %', 'n/a', { sparsify: { sparsity: 0.8 } }],
  ];
  for (const [name, m, k] of decodeShapes()) {
    const x = { x: Float32Array.from({ length: k }, (_, i) => Math.cos(i)) };
    for (const [encoding, layout, opts] of variants) {
      log(`${name} ${m}x${k} ${encoding} ${layout} ...`);
      const got = await measure(device, gemv(m, k), opts, x, (label) => (/Gemm/.test(label) ? 'gemm' : undefined));
      for (const r of got.values()) rows.push({ case: `${name} ${m}x${k}`, encoding, layout, ...r });
    }
  }
  if (!args['no-convs'] && haveShared()) {
    const nets: [string, string][] = [
      ['mnist-8', join(sharedDir()!, 'models/mnist-8/model.onnx')],
      ['resnet50', join(sharedDir()!, 'onnx-node-tests/light/light_resnet50.onnx')],
    ];
    for (const [net, file] of nets) {
      log(`${net} convs ...`);
      // Dynamic dims set to 1, as ONNX's runner does for the light models.
      const params = decodeModel(readFileSync(file), file).graph!.input.flatMap((i) => i.type?.tensor_type?.shape?.dim.map((d) => d.dim_param ?? '') ?? []);
      const { graph } = importOnnx(file, { symbols: Object.fromEntries(params.filter((p) => p !== '').map((p) => [p, 1])) });
      const input = graph.inputs[0]!;
      const n = (input.type.shape as number[]).reduce((a, b) => a * b, 1);
      const feeds = { [input.name]: Float32Array.from({ length: n }, (_, i) => i / n) };
      const got = await measure(device, graph, {}, feeds, (label) => (/= Conv\(/.test(label) ? label.split(' = ')[0]!.replace(/^%/, '') : undefined));
      for (const [key, r] of got) rows.push({ case: `${net} ${key}`, encoding: 'f32', layout: 'as compiled', ...r });
    }
  }
  log('measuring the read ceiling ...');
  const ceiling = await measureReadBandwidth(device.device, { runs: 5 });
  const rho = spearman(rows.map((r) => r.modelMs), rows.map((r) => r.ms));
  console.log(`\nTraffic model vs the adapter, median of ${RUNS} timed runs per case (timestamp queries); read ceiling ${ceiling.gbps.toFixed(2)} GB/s (same run)`);
  console.log(
    formatTable(
      ['case', 'encoding', 'layout', 'kernel', 'model MB', 'model ms', 'measured ms', 'measured/model', 'GB/s (model bytes)', '% ceiling'],
      rows.map((r) => {
        const gbps = r.modelBytes / (r.ms * 1e6);
        return [r.case, r.encoding, r.layout, r.kernels, fmt(r.modelBytes / 1e6), fmt(r.modelMs), fmt(r.ms), fmt(r.ms / r.modelMs), fmt(gbps), `${((100 * gbps) / ceiling.gbps).toFixed(0)} %`];
      }),
    ),
  );
  console.log(`spearman rank correlation, modelled vs measured over ${rows.length} rows: ${rho.toFixed(3)}`);
  const decode = rows.filter((r) => r.encoding !== 'f32' || r.layout !== 'as compiled');
  const svg = barChartSvg({
    title: `bench:layout: measured ms per decode matmul (read ceiling ${ceiling.gbps.toFixed(2)} GB/s)`,
    yLabel: 'ms',
    series: ['f32 row-major', 'f32 arranged', 'f16 row-major', 'f16 arranged', 'tiled-csl 80 %'],
    groups: [...new Set(decode.map((r) => r.case))].map((c) => ({ label: c, values: variants.map(([e, l]) => decode.find((r) => r.case === c && r.encoding === e && r.layout === l)?.ms ?? null) })),
  });
  mkdirSync(dirname(args.svg!), { recursive: true });
  writeFileSync(args.svg!, svg);
  log(`chart: ${args.svg}`);
  console.log(JSON.stringify({ ceilingGBps: ceiling.gbps, spearman: rho, rows }));
  device.release();
}

await main();
