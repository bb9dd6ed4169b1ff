// npm run conformance: every ONNX backend node test in ../shared/onnx-node-tests (core) and
// ../shared/onnx-node-tests-extended (extended) imported, compiled and run on the WebGPU adapter, compared with its expected outputs (rtol 1e-3, atol 1e-7, as ONNX's runner). A case passes,
// or is refused with a clear message at import/compile time ("unsupported"), or fails: a wrong number or a crash.
// Prints a per-op table and, as the last line, {"cases", "passed", "failed", "unsupported", "sets": {core, extended}}
// over the union and per set. `--set core|extended` runs one set; other arguments filter cases by name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileGraph } from '../compiler/compile.js';
import { artifactFiles } from '../compiler/emit/in-memory.js';
import { type Tensor, makeTensor } from '../ir/index.js';
import { Session, acquireDevice } from '../runtime/index.js';
import { type CaseResult, type Executor, runCase } from './lib/onnx-conformance.js';
import { sharedDir } from './lib/shared.js';

const shared = sharedDir();
if (!shared) {
  console.error('conformance: the ONNX test cases are not here (expected ../shared/onnx-node-tests; set KILN_SHARED_DIR)');
  process.exit(2);
}
const SETS = { core: 'onnx-node-tests', extended: 'onnx-node-tests-extended' } as const;
type SetName = keyof typeof SETS;
const args = process.argv.slice(2);
const setArg = args.includes('--set') ? args[args.indexOf('--set') + 1] : undefined;
if (setArg !== undefined && !(setArg in SETS)) {
  console.error(`conformance: --set ${setArg}: expected core or extended`);
  process.exit(2);
}
const sets = (setArg ? [setArg] : Object.keys(SETS)) as SetName[];
const only = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--set');
const verbose = process.argv.includes('--verbose');

const device = await acquireDevice({ optionalFeatures: ['shader-f16'] });
console.log(`WebGPU adapter: ${device.adapterInfo}`);

const onGpu: Executor = async (graph, inputs) => {
  const artifact = compileGraph(graph, { source: graph.name });
  const session = await Session.load(artifactFiles(artifact, graph.name), { device });
  try {
    const out = await session.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data])));
    const result: Record<string, Tensor> = {};
    for (const [k, o] of Object.entries(out)) result[k] = makeTensor(o.dtype as Tensor['dtype'], o.shape, Float64Array.from(o.data));
    return result;
  } finally {
    session.dispose();
  }
};

const results: (CaseResult & { op: string; set: SetName })[] = [];
for (const set of sets) {
  const root = join(shared, SETS[set]);
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as { cases: { name: string; op: string }[] };
  for (const c of manifest.cases) {
    if (only.length && !only.some((o) => c.name.includes(o))) continue;
    const r = await runCase(join(root, 'node', c.name), c.name, onGpu);
    results.push({ ...r, op: c.op, set });
    if (verbose || r.status === 'fail') console.log(`${r.status.padEnd(11)} ${c.name}${r.message ? `: ${r.message.split('\n')[0]}` : ''}`);
  }
}
device.release();

const byOp = new Map<string, { pass: number; fail: number; unsupported: number }>();
for (const r of results) {
  const row = byOp.get(r.op) ?? { pass: 0, fail: 0, unsupported: 0 };
  row[r.status === 'pass' ? 'pass' : r.status === 'fail' ? 'fail' : 'unsupported']++;
  byOp.set(r.op, row);
}
console.log(`\n${'op'.padEnd(24)}${'pass'.padStart(6)}${'fail'.padStart(6)}${'unsup'.padStart(7)}`);
for (const [op, row] of [...byOp].sort(([a], [b]) => a.localeCompare(b)))
  console.log(`${op.padEnd(24)}${String(row.pass).padStart(6)}${String(row.fail).padStart(6)}${String(row.unsupported).padStart(7)}`);
const reasons = new Map<string, number>();
for (const r of results) if (r.status === 'unsupported') reasons.set(r.category ?? '?', (reasons.get(r.category ?? '?') ?? 0) + 1);
console.log(`\nunsupported by reason: ${[...reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
const summary = (rs: readonly CaseResult[]) => {
  const count = (s: CaseResult['status']): number => rs.filter((r) => r.status === s).length;
  return { cases: rs.length, passed: count('pass'), failed: count('fail'), unsupported: count('unsupported') };
};
const all = summary(results);
console.log(JSON.stringify({ ...all, sets: Object.fromEntries(sets.map((s) => [s, summary(results.filter((r) => r.set === s))])) }));
process.exitCode = all.failed ? 1 : 0;
