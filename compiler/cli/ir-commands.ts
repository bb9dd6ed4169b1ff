// `kiln ir verify|print|opt|run <file.kir>`: work on the textual IR directly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Graph,
  type Tensor,
  assertValid,
  formatType,
  interpret,
  makeTensor,
  parseKir,
  printGraph,
  verify,
  formatDiagnostic,
  dtypeInfo,
  intRange,
} from '../../ir/index.js';
import { DEFAULT_PIPELINE, configure, resolvePasses, runPipeline } from '../../passes/index.js';
import { type PruneFlagOptions, dumpWriter, formatPipeline, parseDumpAfter, pruneFlags, sparsifyFlags } from './pass-flags.js';
import { seededRandom } from '../../runtime/index.js';
import { tensorFromJson, tensorToJson } from '../io/json-tensor.js';
import { UsageError } from './errors.js';
import { parseAssignments, readText } from './files.js';

export interface Output {
  /** A line on stdout. */
  out(text: string): void;
  /** A line on stderr. */
  err(text: string): void;
  /** Text on stdout as it is (no newline added), for output that streams. */
  write(text: string): void;
}

export function loadKir(path: string): Graph {
  return parseKir(readText(path), path);
}

export function irVerify(path: string, io: Output): number {
  const g = loadKir(path);
  const diags = verify(g);
  for (const d of diags) io.err(formatDiagnostic(d));
  if (diags.length) return 1;
  io.out(`${path}: ok (${g.nodes.length} nodes, ${g.inputs.length} inputs, ${g.constants.length} constants)`);
  return 0;
}

export function irPrint(path: string, io: Output): number {
  io.out(printGraph(assertValid(loadKir(path))).trimEnd());
  return 0;
}

export interface OptOptions extends PruneFlagOptions {
  passes?: string;
  dumpIrAfter?: string;
  dumpDir?: string;
  output?: string;
  stats?: boolean;
  sparsity?: string;
  sparsityScope?: string;
  sparsityFloor?: string;
  printPipeline?: boolean;
}

export function irOpt(path: string, opts: OptOptions, io: Output): number {
  const passes = opts.passes ? resolvePasses(opts.passes.split(',').map((s) => s.trim()).filter(Boolean)) : DEFAULT_PIPELINE;
  const sparsify = sparsifyFlags(opts);
  if (sparsify && !passes.some((p) => p.name === 'sparsify')) throw new UsageError(`--sparsity applies to the sparsify pass, which --passes does not include`);
  const prune = pruneFlags(opts);
  if (prune && !passes.some((p) => p.name === 'prune-structured')) throw new UsageError(`--prune applies to the prune-structured pass, which --passes does not include`);
  // Options are read once per pass, here, by the pass itself: a bad value fails before anything runs.
  const raw = (name: string): Record<string, unknown> => (name === 'sparsify' ? (sparsify ?? {}) : name === 'prune-structured' ? (prune ?? {}) : {});
  const steps = passes.map((p) => configure(p, raw(p.name)));
  if (opts.printPipeline) {
    io.out(formatPipeline(steps));
    return 0;
  }
  const dumpAfter = parseDumpAfter(opts.dumpIrAfter);
  const { graph, reports } = runPipeline(loadKir(path), steps, {
    ...(dumpAfter ? { dumpAfter } : {}),
    onDump: dumpWriter(opts.dumpDir ?? 'kiln-dump', io),
  });
  if (opts.stats)
    for (const r of reports) io.err(`${r.pass}: ${r.ms.toFixed(2)} ms ${Object.entries(r.stats).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  const text = printGraph(graph);
  if (opts.output) writeFileSync(opts.output, text);
  else io.out(text.trimEnd());
  return 0;
}

/** Deterministic pseudo-random inputs (mulberry32), for trying a graph without preparing files. */
function randomInput(name: string, g: Graph, seed: number): Tensor {
  const decl = g.inputs.find((i) => i.name === name)!;
  const shape = decl.type.shape.map((d) => (typeof d === 'number' ? d : g.symbols[d]?.min ?? 1));
  const next = seededRandom(seed);
  const info = dtypeInfo(decl.type.dtype);
  if (info.kind === 'float') return makeTensor(decl.type.dtype, shape, () => next() * 2 - 1);
  const [lo, hi] = intRange(decl.type.dtype);
  const span = Math.min(hi - lo + 1, 256);
  return makeTensor(decl.type.dtype, shape, () => Math.max(lo, -128) + Math.floor(next() * span));
}

export interface RunOptions {
  input?: string[];
  random?: string;
  json?: boolean;
}

export function irRun(path: string, opts: RunOptions, io: Output): number {
  const g = assertValid(loadKir(path));
  const files = parseAssignments(opts.input ?? [], '--input');
  const inputs: Record<string, Tensor> = {};
  for (const name of files.keys())
    if (!g.inputs.some((i) => i.name === name))
      throw new UsageError(`--input ${name}: the graph has no input %${name} (inputs: ${g.inputs.map((i) => `%${i.name}`).join(', ')})`);
  g.inputs.forEach((decl, k) => {
    const file = files.get(decl.name);
    if (file) inputs[decl.name] = tensorFromJson(readText(file), file, decl.type);
    else if (opts.random !== undefined) inputs[decl.name] = randomInput(decl.name, g, Number(opts.random) + k);
    else throw new UsageError(`missing --input ${decl.name}=<file.json> (${formatType(decl.type)}), or pass --random <seed>`);
  });
  const outputs = interpret(g, inputs);
  if (opts.json) {
    io.out(JSON.stringify({ outputs: Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, tensorToJson(t)])) }));
    return 0;
  }
  for (const [name, t] of Object.entries(outputs)) {
    const shown = Array.from(t.data.slice(0, 16), (x) => Number(x.toPrecision(6)));
    io.out(`%${name}: ${t.dtype}[${t.shape.join(',')}] = [${shown.join(', ')}${t.data.length > 16 ? `, ... (${t.data.length} values)` : ''}]`);
  }
  return 0;
}
