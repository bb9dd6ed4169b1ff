// `kiln compile`, `kiln run`, `kiln inspect`: the artifact path.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { type Graph, bindSymbols, importOnnx, isDType, readTensorProtoFile, tensorType } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import type { IOTensor, Manifest } from '../../runtime/plan.js';
import { InputError, tensorFromJson, tensorToJson } from '../io/json-tensor.js';
import { readNpy } from '../io/npy.js';
import { UsageError } from './errors.js';
import { parseAssignments, readText } from './files.js';
import { type Output, loadKir } from './ir-commands.js';

export interface CompileCommandOptions {
  output: string;
  f16?: boolean;
  dim?: string[];
}

function parseDims(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of parseAssignments(items, '--dim')) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--dim ${name}=${value}: the size must be a non-negative integer`);
    out[name] = n;
  }
  return out;
}

function loadModel(path: string, opts: CompileCommandOptions, io: Output): { graph: Graph; declared: ReadonlyMap<string, string> } {
  const ext = extname(path).toLowerCase();
  if (ext === '.kir') return { graph: bindSymbols(loadKir(path), parseDims(opts.dim ?? [])), declared: new Map() };
  if (ext === '.onnx') {
    if (!existsSync(path)) throw new UsageError(`cannot read ${path}: no such file`);
    const { graph, notes, declaredDtypes } = importOnnx(path, { symbols: parseDims(opts.dim ?? []) });
    for (const n of notes) io.err(`note: ${n}`);
    return { graph, declared: declaredDtypes };
  }
  throw new UsageError(`${path}: kiln compiles .onnx models and .kir graphs; '${ext || 'no extension'}' is not a model format it knows`);
}

export async function compileCommand(path: string, opts: CompileCommandOptions, io: Output): Promise<number> {
  const { graph, declared } = loadModel(path, opts, io);
  const { compileGraph } = await import('../compile.js');
  const { writeArtifact } = await import('../emit/write.js');
  const artifact = compileGraph(graph, { source: basename(path), declaredDtypes: declared, target: { shaderF16: !!opts.f16 } });
  writeArtifact(opts.output, artifact);
  const m = artifact.manifest;
  io.err(`wrote ${opts.output}: ${m.kernels.length} kernels, ${m.entryPoints.run!.length} dispatches, weights ${m.memory!.weightsBytes} bytes, activations ${m.memory!.arenaBytes} bytes (${m.memory!.noReuseBytes} without reuse)`);
  return 0;
}

const numel = (shape: readonly (number | string)[]): number => shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : NaN), 1);

/** Read one input file (.json, .npy) as numbers, checked against the manifest's tensor. */
function readInput(file: string, t: IOTensor): ArrayLike<number> {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    if (!isDType(t.dtype)) throw new InputError(`${file}: the model's input ${t.name} has dtype ${t.dtype}, which JSON input cannot fill`);
    return tensorFromJson(readText(file), file, tensorType(t.dtype, t.shape)).data;
  }
  if (ext === '.npy') {
    const a = readNpy(new Uint8Array(readFileSync(file)), file);
    if (a.shape.length !== t.shape.length || a.shape.some((d, i) => d !== t.shape[i]))
      throw new InputError(`${file}: shape [${a.shape.join(',')}] does not match input ${t.name}'s [${t.shape.join(',')}]`);
    return a.data;
  }
  if (ext === '.pb') {
    const tensor = readTensorProtoFile(file);
    if (tensor.shape.length !== t.shape.length || tensor.shape.some((d, i) => d !== t.shape[i]))
      throw new InputError(`${file}: shape [${tensor.shape.join(',')}] does not match input ${t.name}'s [${t.shape.join(',')}]`);
    return tensor.data;
  }
  throw new UsageError(`${file}: input files must be .json, .npy or .pb`);
}

export interface RunCommandOptions {
  input?: string[];
  json?: boolean;
}

export async function runCommand(dir: string, opts: RunCommandOptions, io: Output): Promise<number> {
  const session = await Session.load(dir);
  try {
    const files = parseAssignments(opts.input ?? [], '--input');
    const feeds: Record<string, ArrayLike<number>> = {};
    for (const [name, file] of files) {
      const t = session.inputs.find((i) => i.name === name);
      if (!t) throw new UsageError(`--input ${name}: the model has no input '${name}' (inputs: ${session.inputs.map((i) => i.name).join(', ')})`);
      feeds[name] = readInput(file, t);
    }
    for (const t of session.inputs) if (!feeds[t.name]) throw new UsageError(`missing --input ${t.name}=<file> (${t.dtype}[${t.shape.join(',')}], ${numel(t.shape)} values)`);
    const outputs = await session.run(feeds);
    if (opts.json) {
      const json = Object.fromEntries(
        Object.entries(outputs).map(([k, o]) => [k, tensorToJson({ dtype: o.dtype as never, shape: o.shape, data: Float64Array.from(o.data) })]),
      );
      io.out(JSON.stringify({ outputs: json }));
    } else
      for (const [name, o] of Object.entries(outputs)) {
        const shown = Array.from(o.data.slice(0, 16), (x) => Number(Number(x).toPrecision(6)));
        io.out(`${name}: ${o.dtype}[${o.shape.join(',')}] = [${shown.join(', ')}${o.data.length > 16 ? `, ... (${o.data.length} values)` : ''}]`);
      }
    return 0;
  } finally {
    session.dispose();
  }
}

export function inspectCommand(dir: string, opts: { json?: boolean }, io: Output): number {
  const m = JSON.parse(readText(`${dir}/manifest.json`)) as Manifest;
  const dispatches = m.entryPoints.run ?? [];
  if (opts.json) {
    io.out(JSON.stringify({ model: m.model, memory: m.memory, kernels: m.kernels.length, dispatches }));
    return 0;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  io.out(`${m.model.name} (from ${m.model.source || '?'}, ${m.model.compiler})`);
  io.out(`inputs:  ${m.inputs.map((t) => `${t.name}: ${t.dtype}[${t.shape.join(',')}]`).join(', ')}`);
  io.out(`outputs: ${m.outputs.map((t) => `${t.name}: ${t.dtype}[${t.shape.join(',')}]`).join(', ')}`);
  if (m.memory)
    io.out(`memory:  activations peak ${fmt(m.memory.arenaBytes)} bytes vs ${fmt(m.memory.noReuseBytes)} without reuse; weights ${fmt(m.memory.weightsBytes)} bytes`);
  io.out(`kernels: ${m.kernels.length} distinct, ${dispatches.length} dispatches`);
  io.out('');
  io.out(['#', 'kernel', 'workgroups', 'bytes read', 'bytes written', 'FLOPs', 'node'].join('\t'));
  let flops = 0;
  let read = 0;
  let written = 0;
  dispatches.forEach((d, i) => {
    const k = m.kernels.find((x) => x.id === d.kernel)!;
    const c = d.cost ?? { flops: 0, bytesRead: 0, bytesWritten: 0 };
    flops += c.flops;
    read += c.bytesRead;
    written += c.bytesWritten;
    io.out([i, basename(k.file, '.wgsl'), d.workgroups.join('x'), fmt(c.bytesRead), fmt(c.bytesWritten), fmt(c.flops), d.label].join('\t'));
  });
  io.out(['total', '', '', fmt(read), fmt(written), fmt(flops), ''].join('\t'));
  return 0;
}
