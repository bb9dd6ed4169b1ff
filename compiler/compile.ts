// compile(program) -> artifact: passes and scheduling per entry point, then one buffer layout for the program
// (weights pages, persistent state, uniforms, activation slots shared by the entries) and the artifact's files.
// Everything here is a deterministic function of the graphs and the options, so two compiles of the same input
// give byte-identical artifacts (no timestamps, no absolute paths, sorted keys, stable kernel names).
import { type PruneReport, pruneReport } from './prune-report.js';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type ConstantDecl, type Graph, type Tensor, tensorsIdentical, typesEqual } from '../ir/index.js';
import { DEFAULT_PROFILE, type DeviceProfile, PROFILES, type SparsifyOptions, compilePipeline, runProgramPipeline } from '../passes/index.js';
import type { BufferDecl, Dispatch, EntryPoint, GenerationDecl, IOTensor, KernelDecl, Manifest, ManifestDim, Region } from '../runtime/plan.js';
import { dimPostfix } from '../ir/dim.js';
import type { Dim, SymbolBound } from '../ir/shape.js';
import { type DimContext, dimsBufferBytes } from './wgsl/dims.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../runtime/plan.js';
import { emitEntry } from './emit/entry.js';
import type { Kernel } from './kernel-spec.js';
import type { SparseKernelOverride } from './lower/sparse-lowerings.js';
import { type NodeLowering } from './lower/lowering.js';
import { type Schedule, scheduleGraph } from './lower/schedule.js';
import { LOWERINGS } from './lower/table.js';
import { type FlatGraph, flattenControlFlow, planBranches } from './lower/control-flow.js';
import { type ArtifactFile, isLazy } from './memory/lazy-file.js';
import { UNIFORM_BINDING_BYTES, UNIFORM_SPACING, planBuffers, scratchKey, uniformValues, usedConstants } from './memory/plan-buffers.js';
import { DEFAULT_PAGE_BYTES, pageFile, planWeightPages } from './memory/plan-weights.js';
import { storageDecls } from './memory/storage-decls.js';
import { calibratedOutputErrors, quantLayers } from './quant-report.js';
import { sparsityLayers } from './sparsity-report.js';
import { verifyLoweredEntry } from './verify-plan.js';
import type { Target } from './wgsl/build.js';
import { byteLength } from '../runtime/codec.js';
import { LimitError, type LimitNeed, limitNeeds } from '../runtime/limits.js';
import { workgroupStorageBytes } from './wgsl/storage-size.js';
import { numel } from '../ir/index.js';
import { kernelTraffic } from './traffic/index.js';

import { COMPILER_ID } from './version.js'; // the one home of kiln's version (package.json)
export { COMPILER_ID };

export interface CompileOptions {
  readonly target?: Target;
  /** Where the model came from (file name only; recorded in the manifest). */
  readonly source?: string;
  /** Original dtypes of inputs/outputs that import narrowed (name -> ONNX dtype name). */
  readonly declaredDtypes?: ReadonlyMap<string, string>;
  /** WebGPU's minStorageBufferOffsetAlignment; 256 on every adapter we know of. */
  readonly alignment?: number;
  readonly lowerings?: Readonly<Record<string, NodeLowering>>;
  /** Largest weights page (buffer) in bytes; default 128 MiB, WebGPU's default binding limit. */
  readonly pageBytes?: number;
  /** Largest tensor one kernel binding may hold (WebGPU's default maxStorageBufferBindingSize, 128 MiB). */
  readonly maxBindingBytes?: number;
  /** Prune matmul weights first (the sparsify pass). */
  readonly sparsify?: SparsifyOptions;
  /** Remove channel groups (the prune-structured pass's raw options). */
  readonly prune?: Readonly<Record<string, unknown>>;
  /** The bitpack pass's raw options (bits: 'w4a8', group, weights, activations, keep), checked by the pass. */
  readonly bits?: Readonly<Record<string, unknown>>;
  /** Sample inputs (kiln compile --calibrate) on which the report measures bitpack's output error. */
  readonly quantCalibration?: readonly Readonly<Record<string, Tensor>>[];
  /** The device the sparse/dense choice is costed for (default: a generic discrete GPU). */
  readonly profile?: DeviceProfile;
  /**
   * Limits of the target device (WebGPU limit names; --limit): maxStorageBufferBindingSize decides which weights are
   * split; a plan needing more than any declared limit is refused.
   */
  readonly limits?: Readonly<Record<string, number>>;
  /** Storage of dense matmul and embedding weights: f32 (default) or f16, half the bytes (passes/store-weights-f16.ts). */
  readonly weightsDtype?: 'f32' | 'f16';
  /** Weight layouts: auto (arrange-layout chooses per weight) or row-major (the baseline; passes/arrange-layout.ts). */
  readonly layout?: 'auto' | 'row-major';
  /** Pass names after which to hand out the IR (--dump-ir-after), or 'all'; see onDump. */
  readonly dumpAfter?: readonly string[] | 'all';
  /** Receives each dump (`entry` set when the program has several entry points). */
  readonly onDump?: (index: number, pass: string, text: string, entry?: string) => void;
  /** Force one sparse kernel variant instead of the cost model's pick (benches compare the variants). */
  readonly sparseKernel?: SparseKernelOverride;
  /** Told how far the compile is, for a progress display (the CLI's bars); see CompileProgress. */
  readonly onProgress?: (p: CompileProgress) => void;
}

/**
 * A step of compileProgram: the passes (`done` of `total` finished, `pass` the one running now), then the entries
 * scheduled into kernels. Each stage is first reported with done 0.
 */
export interface CompileProgress {
  readonly stage: 'passes' | 'scheduling';
  readonly done: number;
  readonly total: number;
  readonly pass?: string;
}

/** A state value: an input whose buffer persists between runs, and the output that updates it in place. */
export interface StatePair {
  readonly input: string;
  readonly output: string;
}

export interface ProgramEntry {
  readonly graph: Graph;
  readonly state?: readonly StatePair[];
}

/** Several entry points over shared weights and state (a decoder's prefill and decode), compiled as one artifact. */
export interface Program {
  readonly name: string;
  readonly entries: Readonly<Record<string, ProgramEntry>>;
  readonly generation?: GenerationDecl;
  /** A Hugging Face tokenizer.json to ship with the artifact. */
  readonly tokenizer?: Uint8Array;
}

export interface Artifact {
  readonly manifest: Manifest;
  /** Every file but manifest.json, by relative path (weights pages are streamed: see memory/lazy-file.ts). */
  readonly files: ReadonlyMap<string, ArtifactFile>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let runtimeBundle: Uint8Array | undefined;
/** The bundled runtime made by `npm run build` (next to this module in dist/, or in dist/ when run from source). */
function runtimeJs(): Uint8Array {
  if (runtimeBundle) return runtimeBundle;
  for (const candidate of ['../runtime/runtime.bundle.js', '../dist/runtime/runtime.bundle.js'])
    if (existsSync(new URL(candidate, import.meta.url))) return (runtimeBundle = new Uint8Array(readFileSync(new URL(candidate, import.meta.url))));
  throw new Error('the runtime bundle (dist/runtime/runtime.bundle.js) is missing: run `npm run build` in the kiln folder');
}

export function compileGraph(input: Graph, opts: CompileOptions = {}): Artifact {
  return compileProgram({ name: input.name, entries: { run: { graph: input } } }, opts);
}

interface ScheduledEntry {
  readonly name: string;
  /** The graph scheduled: with run-time Ifs flattened (lower/control-flow.ts), its `flat.outputs` are the real ones. */
  readonly graph: Graph;
  readonly flat: FlatGraph;
  readonly schedule: Schedule;
  readonly state: readonly StatePair[];
}

/** Constants of the same name in different entries must be the same data (they share one region). */
function sameConstant(a: ConstantDecl, b: ConstantDecl): boolean {
  if (!typesEqual(a.type, b.type)) return false;
  if (a.value && b.value) return tensorsIdentical(a.value, b.value);
  if (a.external && b.external) return a.external.file === b.external.file && a.external.offset === b.external.offset && a.external.format === b.external.format;
  return false;
}

export function compileProgram(program: Program, opts: CompileOptions = {}): Artifact {
  const target = opts.target ?? { shaderF16: false };
  const alignment = opts.alignment ?? 256;
  const profile = opts.profile ?? PROFILES[DEFAULT_PROFILE]!;
  // Every graph rewrite is a pass of one pipeline (passes/pipelines.ts compilePipeline; --print-pipeline), run over
  // all entries in lockstep so that entries sharing a weight choose its storage together.
  const pipeline = compilePipeline({
    ...(opts.sparsify ? { sparsify: opts.sparsify } : {}),
    ...(opts.prune ? { prune: opts.prune } : {}),
    ...(opts.bits ? { bits: opts.bits } : {}),
    ...(opts.weightsDtype ? { weightsDtype: opts.weightsDtype } : {}),
    ...(opts.layout ? { layout: opts.layout } : {}),
    ...(opts.maxBindingBytes !== undefined ? { maxBindingBytes: opts.maxBindingBytes } : {}),
  });
  let pruning: PruneReport | undefined;
  let calibration: ReturnType<typeof calibratedOutputErrors> | undefined;
  const { graphs } = runProgramPipeline(
    Object.fromEntries(Object.entries(program.entries).map(([name, e]) => [name, e.graph])),
    pipeline,
    {
      target: { shaderF16: target.shaderF16, ...(target.subgroups ? { subgroups: true } : {}), limits: opts.limits ?? {}, profile },
      ...(opts.dumpAfter ? { dumpAfter: opts.dumpAfter } : {}),
      ...(opts.onDump ? { onDump: opts.onDump } : {}),
      onPass: (done, total, pass) => opts.onProgress?.({ stage: 'passes', done, total, pass }),
      onStep: (pass, before, after) => {
        if (pass === 'prune-structured') pruning = pruneReport(Object.keys(program.entries)[0]!, before[0]!, after[0]!);
        if (pass === 'bitpack' && opts.quantCalibration) calibration = calibratedOutputErrors(before[0]!, after[0]!, opts.quantCalibration);
      },
    },
  );
  const tell = (stage: CompileProgress['stage'], done: number, total: number): void => opts.onProgress?.({ stage, done, total });
  tell('passes', pipeline.length, pipeline.length);
  const entryCount = Object.keys(program.entries).length;
  tell('scheduling', 0, entryCount);
  // Symbolic dims: one program-wide order of the symbols (their values' slots in the dims uniform) and bounds.
  const dims = programDims(Object.values(graphs));
  const entries: ScheduledEntry[] = Object.entries(program.entries).map(([name, e], i) => {
    const flat = flattenControlFlow(graphs[name]!);
    const graph = flat.graph;
    const schedule = scheduleGraph(graph, target, opts.lowerings ?? LOWERINGS, {
      profile,
      ...(opts.sparseKernel ? { sparseKernel: opts.sparseKernel } : {}),
      ...(dims ? { dims } : {}),
    });
    tell('scheduling', i + 1, entryCount);
    return { name, graph, flat, schedule, state: e.state ?? [] };
  });

  // Program-wide homes: weights pages, then state buffers, then the uniform buffer, then activation slots.
  // What the weights pages hold: each constant's stored parts (memory/storage-decls.ts).
  const constants = new Map<string, ConstantDecl>();
  for (const e of entries) {
    const decls = new Map(e.graph.constants.flatMap(storageDecls).map((c) => [c.name, c]));
    for (const name of usedConstants(e.graph, e.schedule, new Set(decls.keys()))) {
      const c = decls.get(name)!;
      const prev = constants.get(name);
      if (prev && !sameConstant(prev, c)) throw new Error(`entry points disagree on constant %${name}: one name must mean one tensor`);
      if (!prev) constants.set(name, c);
    }
  }
  const pages = planWeightPages([...constants.values()], alignment, opts.pageBytes ?? DEFAULT_PAGE_BYTES);
  const fixed = new Map<string, Region>();
  pages.forEach((p, id) => p.segments.forEach((s) => fixed.set(s.decl.name, { buffer: id, offset: s.offset, bytes: s.bytes })));
  const buffers: BufferDecl[] = pages.map((p, id) => ({ id, kind: 'weights', bytes: p.bytes, source: { file: p.file, offset: 0 } }));

  const stateBytes = new Map<string, number>();
  for (const e of entries)
    for (const s of e.state) {
      const t = e.graph.types.get(s.input);
      if (!t || !e.graph.inputs.some((i) => i.name === s.input)) throw new Error(`entry '${e.name}': state %${s.input} is not a graph input`);
      const bytes = byteLength(t.dtype, numel(t.shape as number[]));
      if (stateBytes.has(s.input) && stateBytes.get(s.input) !== bytes) throw new Error(`entry points disagree on the size of state %${s.input}`);
      stateBytes.set(s.input, bytes);
    }
  for (const [name, bytes] of [...stateBytes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const id = buffers.length;
    buffers.push({ id, kind: 'state', bytes, state: name });
    fixed.set(name, { buffer: id, offset: 0, bytes });
  }

  const uniforms = [...new Set(entries.flatMap((e) => uniformValues(e.graph, e.schedule)))].sort();
  if (uniforms.length) {
    const id = buffers.length;
    buffers.push({ id, kind: 'uniform', bytes: (uniforms.length - 1) * UNIFORM_SPACING + UNIFORM_BINDING_BYTES });
    uniforms.forEach((u, k) => fixed.set(u, { buffer: id, offset: k * UNIFORM_SPACING, bytes: UNIFORM_BINDING_BYTES }));
  }
  const dimsBuffer = dims ? buffers.length : undefined;
  if (dims) buffers.push({ id: dimsBuffer!, kind: 'uniform', bytes: dimsBufferBytes(dims.order.length) });
  const firstSlot = buffers.length;

  // Kernels deduplicated across entries by structural hash, numbered in first-use order.
  const kernelList: Kernel[] = [];
  const kernelIds = new Map<string, number>();
  for (const e of entries)
    for (const k of e.schedule.kernels)
      if (!kernelIds.has(k.hash)) {
        kernelIds.set(k.hash, kernelList.length);
        kernelList.push(k);
      }
  const kernels: KernelDecl[] = kernelList.map((k, id) => {
    const shared = workgroupStorageBytes(k.module);
    return {
      id,
      file: `kernels/${k.name}.wgsl`,
      entryPoint: k.entryPoint,
      workgroupSize: k.workgroupSize,
      ...(shared ? { workgroupStorageBytes: shared } : {}),
      bindings: k.bindings.map((b) => ({ binding: b.binding, access: b.access })),
    };
  });

  const slotBytes: number[] = [];
  let arenaBytes = 0;
  let noReuseBytes = 0;
  const entryPoints: Record<string, EntryPoint> = {};
  for (const e of entries) {
    const plan = planBuffers(e.graph, e.schedule, fixed, firstSlot);
    plan.slotBytes.forEach((b, k) => (slotBytes[k] = Math.max(slotBytes[k] ?? 0, b)));
    arenaBytes = Math.max(arenaBytes, plan.arenaBytes);
    noReuseBytes = Math.max(noReuseBytes, plan.noReuseBytes);
    for (const s of e.state) {
      const out = plan.regions.get(s.output);
      if (!out || out.buffer !== fixed.get(s.input)!.buffer)
        throw new Error(`entry '${e.name}': state output %${s.output} is not written in place into %${s.input}; only in-place updates (CacheWrite) can produce state`);
    }
    const nodeIndex = new Map(e.graph.nodes.map((n, k) => [n, k]));
    const dispatches: Dispatch[] = e.schedule.steps.map((step) => {
      const bindings: Region[] = step.args.map((a) =>
        'value' in a
          ? plan.regions.get(a.value)!
          : 'scratch' in a
            ? plan.scratch.get(scratchKey(nodeIndex.get(step.node)!, a.scratch))!
            : { buffer: dimsBuffer!, offset: 0, bytes: dimsBufferBytes(dims!.order.length) },
      );
      let bytesRead = 0;
      let bytesWritten = 0;
      step.kernel.bindings.forEach((b, j) => {
        if (b.access === 'read_write') bytesWritten += bindings[j]?.bytes ?? 0;
        else bytesRead += bindings[j]?.bytes ?? 0;
      });
      const t = kernelTraffic(step.kernel, bindings.map((r) => r?.bytes ?? 0), step.flops, profile);
      const traffic = {
        streams: t.streams,
        described: t.described,
        ...(t.executedFlops ? { flops: t.executedFlops } : {}),
        ...(t.barriers ? { barriers: t.barriers } : {}),
        bytesRead: t.predicted.bytesRead,
        bytesWritten: t.predicted.bytesWritten,
        ms: t.predicted.ms,
      };
      return { kernel: kernelIds.get(step.kernel.hash)!, bindings, workgroups: step.kernel.dispatch.map(manifestDim) as [ManifestDim, ManifestDim, ManifestDim], label: step.label, cost: { flops: step.flops, bytesRead, bytesWritten, traffic } };
    });
    verifyLoweredEntry({
      entry: e.name,
      steps: e.schedule.steps,
      dispatches,
      buffers: [...buffers, ...slotBytes.map((bytes, k) => ({ id: firstSlot + k, kind: 'arena' as const, bytes }))],
      dtypeOf: (v) => constants.get(v)?.type.dtype ?? e.graph.types.get(v)?.dtype,
      alignment,
    });
    const io = (name: string): IOTensor => {
      const t = e.graph.types.get(name)!;
      const declared = opts.declaredDtypes?.get(name);
      return { name, dtype: t.dtype, ...(declared ? { declaredDtype: declared } : {}), shape: t.shape.map(manifestDim), region: plan.regions.get(name)! };
    };
    const stateInputs = new Set(e.state.map((s) => s.input));
    const stateOutputs = new Set(e.state.map((s) => s.output));
    entryPoints[e.name] = {
      inputs: e.graph.inputs.filter((i) => !stateInputs.has(i.name)).map((i) => io(i.name)),
      outputs: e.flat.outputs.filter((o) => !stateOutputs.has(o)).map(io),
      dispatches,
      ...(e.flat.branches.length ? { branches: planBranches(e.flat, e.schedule.steps, (v) => plan.regions.get(v)) } : {}),
    };
  }
  slotBytes.forEach((bytes, k) => buffers.push({ id: firstSlot + k, kind: 'arena', bytes }));

  const files = new Map<string, ArtifactFile>();
  kernelList.forEach((k, i) => files.set(kernels[i]!.file, utf8(k.wgsl)));
  for (const p of pages) files.set(p.file, pageFile(p));
  const main = entryPoints.run ?? Object.values(entryPoints)[0]!;
  const entry = emitEntry(program.name, main.inputs, main.outputs, Object.keys(entryPoints), !!program.generation);
  files.set('model.js', utf8(entry.js));
  files.set('model.d.ts', utf8(entry.dts));
  files.set('runtime.js', runtimeJs());
  if (program.tokenizer) files.set('tokenizer.json', program.tokenizer);

  const weightsBytes = pages.reduce((s, p) => s + p.bytes, 0);
  const layers = sparsityLayers(entries);
  const quantized = quantLayers(Object.values(program.entries).map((e) => e.graph), entries);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    model: { name: program.name, source: opts.source ?? '', compiler: COMPILER_ID },
    // A feature is required only where some kernel uses it: a subgroups target with no kernel that shares values
    // across a subgroup still loads on adapters without the feature.
    requires: { features: [...(target.shaderF16 ? ['shader-f16'] : []), ...(kernelList.some((k) => k.module.enables.includes('subgroups')) ? ['subgroups'] : [])], limits: {} },
    buffers,
    kernels,
    entryPoints,
    ...(program.generation ? { generation: program.generation } : {}),
    ...(program.tokenizer ? { tokenizer: 'tokenizer.json' } : {}),
    ...(layers.length ? { sparsity: { profile: profile.name, layers } } : {}),
    ...(quantized.length ? { quantization: { layers: quantized, ...(calibration ? { calibration } : {}) } } : {}),
    ...(pruning ? { pruning } : {}),
    memory: { arenaBytes, noReuseBytes, weightsBytes },
    costProfile: profile.name,
    ...(dims ? { symbols: dims.order.map((name) => ({ name, ...dims.bounds[name]! })), dimsBuffer: dimsBuffer! } : {}),
    files: Object.fromEntries(
      [...files]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([path, f]) => [path, isLazy(f) ? { sha256: f.sha256, bytes: f.bytes } : { sha256: sha256(f), bytes: f.byteLength }]),
    ),
  };
  // The limits are read off the plan itself (runtime/limits.ts), the same reading the runtime checks at load.
  const needs = limitNeeds(manifest).sort((a, b) => (a.limit < b.limit ? -1 : 1));
  checkTargetLimits(needs, opts.limits ?? {});
  return { manifest: { ...manifest, requires: { ...manifest.requires, limits: Object.fromEntries(needs.map((n) => [n.limit, n.value])) } }, files };
}

/** The program's symbols in name order, with bounds (entries must agree on a shared symbol's bounds). */
function programDims(graphs: readonly Graph[]): DimContext | undefined {
  const bounds: Record<string, SymbolBound> = {};
  for (const g of graphs)
    for (const [name, b] of Object.entries(g.symbols)) {
      const prev = bounds[name];
      if (prev && (prev.min !== b.min || prev.max !== b.max)) throw new Error(`entry points disagree on the bounds of symbol ${name}`);
      bounds[name] = b;
    }
  const order = Object.keys(bounds).sort();
  return order.length ? { order, bounds } : undefined;
}

/** A dim as the manifest carries it: numbers and symbol names as they are, expressions as postfix programs. */
const manifestDim = (d: Dim): ManifestDim => (typeof d === 'number' || /^[A-Za-z_][A-Za-z0-9_]*$/.test(d) ? d : dimPostfix(d));

/** Limits the user declared for the target (--limit) are a contract: a plan that needs more is refused here. */
function checkTargetLimits(needs: readonly LimitNeed[], limits: Readonly<Record<string, number>>): void {
  const over = needs.filter((n) => limits[n.limit] !== undefined && n.value > limits[n.limit]!);
  if (over.length)
    throw new LimitError(`the compiled plan exceeds the target's declared limits: ${over.map((n) => `${n.where} needs ${n.limit} ${n.value} > ${limits[n.limit]}`).join('; ')}`);
}
