// `kiln compile`, `kiln run`, `kiln inspect`: the artifact path.
import type { SymbolBound } from '../../ir/shape.js';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { isDType, readTensorProtoFile, tensorType } from '../../ir/index.js';
import { type InputValue, PLAN_LIMITS, Session, acquireDevice } from '../../runtime/index.js';
import { formatManifestDim, formatManifestShape } from './manifest-dims.js';
import { type DeviceProfile, PROFILES, compilePipeline, configure, lookupProfile, profileForAdapter, sparsify as sparsifyPass, bitpack as bitpackPass, pruneStructured as prunePass } from '../../passes/index.js';
import { type PruneFlagOptions, dumpWriter, formatPipeline, parseDumpAfter, pruneFlags, sparsifyFlags } from './pass-flags.js';
import type { IOTensor, Manifest } from '../../runtime/plan.js';
import { InputError, tensorFromJson, tensorToJson } from '../io/json-tensor.js';
import { readNpy } from '../io/npy.js';
import { UsageError } from './errors.js';
import { parseAssignments, readManifestFile, readText } from './files.js';
import type { Output } from './ir-commands.js';
import { loadProgram } from './load-program.js';
import { isProfilePath, readDeviceProfileFile } from './device-profile-file.js';
import { compileProgress, createProgress, loadProgress, writeProgress } from './progress.js';

export interface CompileCommandOptions extends PruneFlagOptions {
  f16?: boolean;
  subgroups?: boolean;
  dim?: string[];
  inputShape?: string[];
  weights?: string;
  maxSeq?: string;
  chunk?: string;
  seq?: string;
  sparsity?: string;
  sparsityScope?: string;
  bits?: string;
  bitsGroup?: string;
  bitsKeep?: string;
  bitsLayers?: string;
  sparsityFloor?: string;
  calibrate?: string;
  deviceProfile?: string;
  weightsDtype?: string;
  layout?: string;
  limit?: string[];
  output?: string;
  printPipeline?: boolean;
  dumpIrAfter?: string;
  dumpDir?: string;
}

async function deviceProfile(name: string | undefined, io: Output): Promise<DeviceProfile | undefined> {
  if (name === undefined) return undefined;
  if (name === 'auto') {
    const acquired = await acquireDevice();
    try {
      const profile = profileForAdapter(acquired.adapterInfo);
      io.err(`note: costing kernels for ${acquired.adapterInfo} (profile ${profile.name})`);
      return profile;
    } finally {
      acquired.release();
    }
  }
  // A .json path: a profile file (kiln tune writes them), checked field by field.
  if (isProfilePath(name)) {
    const profile = readDeviceProfileFile(name);
    const t = profile.tuning;
    io.err(`note: costing kernels with profile ${profile.name} from ${name}${t ? ` (tuned: ${Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
    return profile;
  }
  const p = lookupProfile(name);
  if (!p) throw new UsageError(`--device-profile ${name}: unknown profile (known: ${Object.keys(PROFILES).join(', ')}, auto, or a profile.json from kiln tune)`);
  return p;
}

function parseLimits(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of parseAssignments(items, '--limit')) {
    if (!PLAN_LIMITS.includes(name)) throw new UsageError(`--limit ${name}: not a limit kiln plans for (known: ${PLAN_LIMITS.join(', ')})`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--limit ${name}=${value}: the value must be a positive integer`);
    out[name] = n;
  }
  return out;
}

/** `--dim name=size` specialises a symbol; `--dim name=lo..hi` keeps it symbolic over that range. */
function parseDims(items: readonly string[]): Record<string, number | SymbolBound> {
  const out: Record<string, number | SymbolBound> = {};
  for (const [name, value] of parseAssignments(items, '--dim')) {
    const range = /^(\d+)\.\.(\d+)$/.exec(value);
    if (range) {
      const [min, max] = [Number(range[1]), Number(range[2])];
      if (min > max) throw new UsageError(`--dim ${name}=${value}: the range is empty (${min} > ${max})`);
      out[name] = { min, max };
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--dim ${name}=${value}: give a non-negative integer size or a range lo..hi`);
    out[name] = n;
  }
  return out;
}

/** `--input-shape name=d0,d1,...`: each dim a size or a symbol name. */
function parseInputShapes(items: readonly string[]): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  for (const [name, value] of parseAssignments(items, '--input-shape')) {
    out[name] = value.split(',').map((d) => {
      const t = d.trim();
      if (/^\d+$/.test(t)) return Number(t);
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return t;
      throw new UsageError(`--input-shape ${name}=${value}: each dim is a size or a symbol name (letters, digits, _), got '${t}'`);
    });
  }
  return out;
}

/** The bitpack pass's options from --bits, --bits-group, --bits-keep, --bits-layers (checked here, so a bad flag fails before loading). */
function bitsFlags(opts: CompileCommandOptions): Record<string, unknown> | undefined {
  if (opts.bits === undefined) {
    if (opts.bitsGroup !== undefined || opts.bitsKeep !== undefined || opts.bitsLayers !== undefined) throw new UsageError('--bits-group, --bits-keep and --bits-layers need --bits w<n>a<m>');
    return undefined;
  }
  let layers: unknown;
  if (opts.bitsLayers !== undefined) {
    const file = opts.bitsLayers;
    try {
      layers = JSON.parse(readText(file));
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`--bits-layers: ${file} is not JSON (${(e as Error).message}); expected {"<weight-name regex>": "w8a8" | {"bits": "w4a8", "group": 32}}`);
    }
  }
  const raw = { bits: opts.bits, ...(opts.bitsGroup !== undefined ? { group: opts.bitsGroup } : {}), ...(opts.bitsKeep !== undefined ? { keep: opts.bitsKeep } : {}), ...(layers !== undefined ? { layers } : {}) };
  try {
    configure(bitpackPass, raw);
  } catch (e) {
    throw new UsageError(`--bits${opts.bitsLayers !== undefined && /layers/.test((e as Error).message) ? `-layers ${opts.bitsLayers}` : ''}: ${(e as Error).message}`);
  }
  return raw;
}

export async function compileCommand(path: string, opts: CompileCommandOptions, io: Output): Promise<number> {
  const weightsDtype = opts.weightsDtype ?? 'f32';
  if (weightsDtype !== 'f32' && weightsDtype !== 'f16') throw new UsageError(`--weights-dtype ${weightsDtype}: expected f32 or f16`);
  const layout = opts.layout ?? 'auto';
  if (layout !== 'auto' && layout !== 'row-major') throw new UsageError(`--layout ${layout}: expected auto or row-major`);
  const sparsifyRaw = sparsifyFlags(opts);
  // The sparsify pass reads (and checks) its options once; the compile passes them on as read.
  const sparsify = sparsifyRaw ? configure(sparsifyPass, sparsifyRaw).options : undefined;
  const bits = bitsFlags(opts);
  const prune = pruneFlags(opts);
  // Read (and checked) once now, so a bad value fails before the model loads.
  if (prune) configure(prunePass, prune);
  if (opts.printPipeline) {
    io.out(formatPipeline(compilePipeline({ ...(sparsify ? { sparsify } : {}), ...(prune ? { prune } : {}), ...(bits ? { bits } : {}), weightsDtype, layout })));
    return 0;
  }
  if (opts.output === undefined) throw new UsageError("required option '-o, --output <dir>' not specified");
  const output = opts.output;
  // Refuse an output folder kiln may not write before spending any time on the model (writeArtifact checks again).
  const { inspectOutputFolder } = await import('../emit/output-dir.js');
  inspectOutputFolder(output);
  const limits = parseLimits(opts.limit ?? []);
  const dumpAfter = parseDumpAfter(opts.dumpIrAfter);
  const { program, declared } = loadProgram(path, { ...opts, dims: parseDims(opts.dim ?? []), inputShapes: parseInputShapes(opts.inputShape ?? []) }, io);
  let quantCalibration: ReturnType<typeof import('./calibration.js').readCalibration> | undefined;
  if (opts.calibrate !== undefined) {
    if (!prune && !bits) throw new UsageError('--calibrate needs --prune <ratio> or --bits <w..a..>: the samples score the channels pruning removes, and measure the output error quantization causes');
    if (program.generation) throw new UsageError('--calibrate: decoder checkpoints cannot be calibrated yet (their entries carry a KV cache); for decoders npm run eval:quant measures quantization');
    const { readCalibration } = await import('./calibration.js');
    const samples = readCalibration(opts.calibrate, Object.values(program.entries)[0]!.graph.inputs);
    if (prune) prune.calibration = samples;
    if (bits) quantCalibration = samples;
  }
  const { compileProgram } = await import('../compile.js');
  const { writeArtifact } = await import('../emit/write.js');
  const profile = await deviceProfile(opts.deviceProfile, io);
  // Progress on stderr (bars on a terminal); not while IR dumps print their own line per pass.
  const progress = createProgress();
  let artifact;
  try {
    artifact = compileProgram(program, {
      source: basename(path),
      declaredDtypes: declared,
      target: { shaderF16: !!opts.f16, ...(opts.subgroups ? { subgroups: true } : {}) },
      ...(sparsify ? { sparsify } : {}),
      ...(prune ? { prune } : {}),
      ...(bits ? { bits } : {}),
      ...(quantCalibration ? { quantCalibration } : {}),
      ...(profile ? { profile } : {}),
      ...(dumpAfter ? { dumpAfter, onDump: dumpWriter(opts.dumpDir ?? 'kiln-dump', io) } : { onProgress: compileProgress(progress) }),
      weightsDtype,
      layout,
      limits,
    });
    writeArtifact(output, artifact, { onProgress: writeProgress(progress) });
  } finally {
    progress.stop();
  }
  const m = artifact.manifest;
  const dispatchCount = Object.entries(m.entryPoints).map(([name, e]) => `${e.dispatches.length} ${name}`).join(' + ');
  io.err(`wrote ${output}: ${m.kernels.length} kernels, ${dispatchCount} dispatches, weights ${m.memory!.weightsBytes} bytes, activations ${m.memory!.arenaBytes} bytes (${m.memory!.noReuseBytes} without reuse)`);
  return 0;
}


/**
 * Read one input file (.json, .npy, .pb) as numbers with its shape, checked against the manifest's tensor: static
 * dims must match, symbolic ones take the file's size (the runtime checks it against the compiled range).
 */
export function readInput(file: string, t: IOTensor): { data: ArrayLike<number>; shape: readonly number[] } {
  const ext = extname(file).toLowerCase();
  const check = (shape: readonly number[]): void => {
    if (shape.length !== t.shape.length || shape.some((d, i) => typeof t.shape[i] === 'number' && d !== t.shape[i]))
      throw new InputError(`${file}: shape [${shape.join(',')}] does not match input ${t.name}'s ${formatManifestShape(t.shape)}`);
  };
  if (ext === '.json') {
    if (!isDType(t.dtype)) throw new InputError(`${file}: the model's input ${t.name} has dtype ${t.dtype}, which JSON input cannot fill`);
    const declared = t.shape.map((d) => (typeof d === 'object' ? '?' : d));
    const tensor = tensorFromJson(readText(file), file, tensorType(t.dtype, declared));
    return { data: tensor.data, shape: tensor.shape };
  }
  if (ext === '.npy') {
    const a = readNpy(new Uint8Array(readFileSync(file)), file);
    check(a.shape);
    return a;
  }
  if (ext === '.pb') {
    const tensor = readTensorProtoFile(file);
    check(tensor.shape);
    return tensor;
  }
  throw new UsageError(`${file}: input files must be .json, .npy or .pb`);
}

export interface RunCommandOptions {
  input?: string[];
  json?: boolean;
}

export async function runCommand(dir: string, opts: RunCommandOptions, io: Output): Promise<number> {
  const progress = createProgress();
  const session = await Session.load(dir, { onProgress: loadProgress(progress) }).finally(() => progress.stop());
  try {
    const files = parseAssignments(opts.input ?? [], '--input');
    const feeds: Record<string, InputValue> = {};
    for (const [name, file] of files) {
      const t = session.inputs.find((i) => i.name === name);
      if (!t) throw new UsageError(`--input ${name}: the model has no input '${name}' (inputs: ${session.inputs.map((i) => i.name).join(', ')})`);
      feeds[name] = readInput(file, t);
    }
    for (const t of session.inputs) if (!feeds[t.name]) throw new UsageError(`missing --input ${t.name}=<file> (${t.dtype}${formatManifestShape(t.shape)})`);
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
  const m = readManifestFile(dir);
  if (opts.json) {
    const predicted = Object.fromEntries(
      Object.entries(m.entryPoints).map(([name, e]) => {
        const t = e.dispatches.map((d) => d.cost?.traffic);
        return [name, { bytesRead: t.reduce((s, x) => s + (x?.bytesRead ?? 0), 0), bytesWritten: t.reduce((s, x) => s + (x?.bytesWritten ?? 0), 0), ms: t.reduce((s, x) => s + (x?.ms ?? 0), 0) }];
      }),
    );
    io.out(JSON.stringify({ model: m.model, memory: m.memory, kernels: m.kernels.length, generation: m.generation, symbols: m.symbols, costProfile: m.costProfile, predicted, entryPoints: m.entryPoints }));
    return 0;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  io.out(`${m.model.name} (from ${m.model.source || '?'}, ${m.model.compiler})`);
  // Symbolic dims: the sizes one artifact serves (memory is planned for the upper bounds).
  if (m.symbols?.length) io.out(`symbols: ${m.symbols.map((s) => `${s.name} in ${s.min}..${s.max}`).join(', ')} (sizes at run time; memory planned for the upper bounds)`);
  if (m.memory)
    io.out(`memory:  activations peak ${fmt(m.memory.arenaBytes)} bytes vs ${fmt(m.memory.noReuseBytes)} without reuse; weights ${fmt(m.memory.weightsBytes)} bytes`);
  const state = m.buffers.filter((b) => b.kind === 'state');
  if (state.length) io.out(`state:   ${state.length} buffers, ${fmt(state.reduce((s, b) => s + b.bytes, 0))} bytes (KV cache)`);
  if (m.generation) io.out(`generation: prefill chunk ${m.generation.chunk}, context ${m.generation.maxSeq}, vocabulary ${m.generation.vocabSize}`);
  if (m.sparsity) {
    const l = m.sparsity.layers;
    const before = l.reduce((s, x) => s + x.denseBytes, 0);
    const after = l.reduce((s, x) => s + x.bytes, 0);
    io.out(`sparsity: ${l.length} matmul weights with zeros, costed for ${m.sparsity.profile}; ${l.filter((x) => x.kernel !== 'dense').length} sparse; weight bytes ${fmt(before)} -> ${fmt(after)}`);
    io.out(['  weight', 'M x K', 'N', 'sparsity', 'kernel', 'bytes before', 'bytes after'].join('\t'));
    for (const x of l)
      io.out([`  ${x.weight}`, `${x.m} x ${x.k}`, x.n.join(','), `${(100 * x.sparsity).toFixed(1)} %`, x.kernel, fmt(x.denseBytes), fmt(x.bytes)].join('\t'));
  }
  if (m.quantization) {
    const l = m.quantization.layers;
    const err = (v: number | null, pct: boolean): string => (v === null ? 'n/a' : pct ? `${(100 * v).toFixed(2)} %` : v.toPrecision(3));
    io.out(`quantization: ${l.length} weights as codes; weight bytes ${fmt(l.reduce((s, x) => s + x.floatBytes, 0))} as f32 -> ${fmt(l.reduce((s, x) => s + x.bytes, 0))}`);
    io.out(['  weight', 'shape', 'bits', 'scheme', 'group', 'kernel', 'bytes', 'rel. error', 'max error'].join('\t'));
    for (const x of l) io.out([`  ${x.weight}`, x.shape.join(' x '), x.bits, x.scheme, x.group, x.kernel, fmt(x.bytes), err(x.relError, true), err(x.maxError, false)].join('\t'));
    const c = m.quantization.calibration;
    if (c) {
      io.out(`quantization output error on ${c.samples} calibration sample(s) (interpreter, against the float graph):`);
      for (const o of c.outputs) io.out(`  ${o.output}\trel. error ${err(o.relError, true)}\tmax error ${err(o.maxError, false)}`);
    }
  }
  if (m.pruning) printPruning(m.pruning, io, fmt);
  io.out(`kernels: ${m.kernels.length} distinct`);
  for (const [name, e] of Object.entries(m.entryPoints)) {
    io.out('');
    io.out(`entry ${name}: ${e.dispatches.length} dispatches`);
    io.out(`  inputs:  ${e.inputs.map((t) => `${t.name}: ${t.dtype}${formatManifestShape(t.shape)}`).join(', ')}`);
    io.out(`  outputs: ${e.outputs.map((t) => `${t.name}: ${t.dtype}${formatManifestShape(t.shape)}`).join(', ')}`);
    // Predicted: bytes at the device's transaction granularity and the time, by the traffic model (compiler/traffic/).
    io.out(['#', 'kernel', 'workgroups', 'bytes read', 'bytes written', 'FLOPs', 'predicted bytes', 'predicted ms', 'node'].join('\t'));
    let flops = 0;
    let read = 0;
    let written = 0;
    let moved = 0;
    let ms = 0;
    e.dispatches.forEach((d, i) => {
      const k = m.kernels.find((x) => x.id === d.kernel)!;
      const c = d.cost ?? { flops: 0, bytesRead: 0, bytesWritten: 0 };
      const t = c.traffic;
      flops += c.flops;
      read += c.bytesRead;
      written += c.bytesWritten;
      moved += t ? t.bytesRead + t.bytesWritten : 0;
      ms += t?.ms ?? 0;
      const predicted = t ? [fmt(t.bytesRead + t.bytesWritten) + (t.described ? '' : '*'), t.ms.toFixed(4)] : ['-', '-'];
      io.out([i, basename(k.file, '.wgsl'), d.workgroups.map(formatManifestDim).join('x'), fmt(c.bytesRead), fmt(c.bytesWritten), fmt(c.flops), ...predicted, d.label].join('\t'));
    });
    io.out(['total', '', '', fmt(read), fmt(written), fmt(flops), fmt(moved), ms.toFixed(4), ''].join('\t'));
  }
  if (m.costProfile) io.out(`\npredicted for device profile ${m.costProfile} (kiln profile measures them on this adapter); * kernel family not described to the traffic model`);
  return 0;
}

export interface GroupsCommandOptions extends Pick<CompileCommandOptions, 'dim' | 'inputShape' | 'weights' | 'maxSeq' | 'chunk' | 'seq'> {
  json?: boolean;
  entry?: string;
}

/** `kiln ir groups <model>`: the channel groups structured pruning sees (groups-command.ts). */
export async function groupsCommand(path: string, opts: GroupsCommandOptions, io: Output): Promise<number> {
  const { program } = loadProgram(path, { ...opts, dims: parseDims(opts.dim ?? []), inputShapes: parseInputShapes(opts.inputShape ?? []) }, io);
  const { printGroups } = await import('./groups-command.js');
  return printGroups(program, opts, io);
}

function printPruning(p: NonNullable<Manifest['pruning']>, io: Output, fmt: (n: number) => string): void {
  const sum = (f: (l: (typeof p.layers)[number]) => number | null): number | null => p.layers.reduce<number | null>((s, l) => (s === null || f(l) === null ? null : s + f(l)!), 0);
  const params = (shape: readonly number[]): number => (shape.length ? shape.reduce((a, b) => a * b, 1) : 0);
  const [pb, pa] = [sum((l) => params(l.before)), sum((l) => params(l.after))];
  const [fb, fa] = [sum((l) => l.flopsBefore), sum((l) => l.flopsAfter)];
  const flops = fb !== null && fa !== null ? `; FLOPs of those layers in entry ${p.entry} ${fmt(fb)} -> ${fmt(fa)}` : '';
  io.out(`pruning: ${p.groups.length} groups pruned; parameters of ${p.layers.length} weights ${fmt(pb!)} -> ${fmt(pa!)}${flops}`);
  io.out(['  group weights', 'kind', 'before', 'after'].join('\t'));
  for (const g of p.groups) io.out([`  ${g.weights.join(' ')}`, g.kind, g.before, g.after].join('\t'));
  io.out(['  weight', 'shape before', 'shape after', 'params before', 'params after', 'FLOPs before', 'FLOPs after'].join('\t'));
  const f = (v: number | null): string => (v === null ? 'n/a' : fmt(v));
  for (const l of p.layers) io.out([`  ${l.weight}`, l.before.join(' x '), l.after.length ? l.after.join(' x ') : 'erased', fmt(params(l.before)), fmt(params(l.after)), f(l.flopsBefore), f(l.flopsAfter)].join('\t'));
}
