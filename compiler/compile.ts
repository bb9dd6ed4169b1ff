// compile(graph) -> artifact: passes, scheduling into kernels, buffer planning, then the artifact's files.
// Everything here is a deterministic function of the graph and the options, so two compiles of the same input
// give byte-identical artifacts (no timestamps, no absolute paths, sorted keys, stable kernel names).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Graph } from '../ir/index.js';
import { DEFAULT_PIPELINE, runPipeline } from '../passes/index.js';
import type { Dispatch, IOTensor, KernelDecl, Manifest, Region } from '../runtime/plan.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION } from '../runtime/plan.js';
import { emitEntry } from './emit/entry.js';
import { type NodeLowering } from './lower/lowering.js';
import { scheduleGraph } from './lower/schedule.js';
import { LOWERINGS } from './lower/table.js';
import { FIRST_SLOT_BUFFER, WEIGHTS_BUFFER, planBuffers, scratchKey } from './memory/plan-buffers.js';
import type { Target } from './wgsl/build.js';

export const COMPILER_ID = 'kiln 0.1.0';

export interface CompileOptions {
  readonly target?: Target;
  /** Where the model came from (file name only; recorded in the manifest). */
  readonly source?: string;
  /** Original dtypes of inputs/outputs that import narrowed (name -> ONNX dtype name). */
  readonly declaredDtypes?: ReadonlyMap<string, string>;
  /** WebGPU's minStorageBufferOffsetAlignment; 256 on every adapter we know of. */
  readonly alignment?: number;
  readonly lowerings?: Readonly<Record<string, NodeLowering>>;
}

export interface Artifact {
  readonly manifest: Manifest;
  /** Every file but manifest.json, by relative path. */
  readonly files: ReadonlyMap<string, Uint8Array>;
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
  const target = opts.target ?? { shaderF16: false };
  const alignment = opts.alignment ?? 256;
  const { graph } = runPipeline(input, DEFAULT_PIPELINE);
  const schedule = scheduleGraph(graph, target, opts.lowerings ?? LOWERINGS);
  const plan = planBuffers(graph, schedule, alignment);
  const nodeIndex = new Map(graph.nodes.map((n, k) => [n, k]));

  const kernelIds = new Map(schedule.kernels.map((k, i) => [k.hash, i]));
  const kernels: KernelDecl[] = schedule.kernels.map((k, id) => ({
    id,
    file: `kernels/${k.name}.wgsl`,
    entryPoint: k.entryPoint,
    workgroupSize: k.workgroupSize,
    bindings: k.bindings.map((b) => ({ binding: b.binding, access: b.access })),
  }));
  const dispatches: Dispatch[] = schedule.steps.map((step) => {
    const bindings: Region[] = step.args.map((a) =>
      'value' in a ? plan.regions.get(a.value)! : plan.scratch.get(scratchKey(nodeIndex.get(step.node)!, a.scratch))!,
    );
    let bytesRead = 0;
    let bytesWritten = 0;
    step.kernel.bindings.forEach((b, j) => {
      if (b.access === 'read_write') bytesWritten += bindings[j]!.bytes;
      else bytesRead += bindings[j]!.bytes;
    });
    return { kernel: kernelIds.get(step.kernel.hash)!, bindings, workgroups: step.kernel.dispatch, label: step.label, cost: { flops: step.flops, bytesRead, bytesWritten } };
  });

  const io = (name: string): IOTensor => {
    const t = graph.types.get(name)!;
    const declared = opts.declaredDtypes?.get(name);
    return { name, dtype: t.dtype, ...(declared ? { declaredDtype: declared } : {}), shape: [...t.shape], region: plan.regions.get(name)! };
  };

  const files = new Map<string, Uint8Array>();
  schedule.kernels.forEach((k, i) => files.set(kernels[i]!.file, utf8(k.wgsl)));
  if (plan.weights.byteLength) files.set('weights.bin', plan.weights);
  const inputs = graph.inputs.map((i) => io(i.name));
  const outputs = graph.outputs.map(io);
  const entry = emitEntry(graph.name, inputs, outputs);
  files.set('model.js', utf8(entry.js));
  files.set('model.d.ts', utf8(entry.dts));
  files.set('runtime.js', runtimeJs());

  const maxBinding = Math.max(4, ...dispatches.flatMap((d) => d.bindings.map((r) => r.bytes)));
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    model: { name: graph.name, source: opts.source ?? '', compiler: COMPILER_ID },
    requires: {
      features: target.shaderF16 ? ['shader-f16'] : [],
      limits: {
        maxBufferSize: Math.max(4, plan.weights.byteLength, ...plan.slotBytes),
        maxStorageBufferBindingSize: maxBinding,
        maxStorageBuffersPerShaderStage: Math.max(0, ...kernels.map((k) => k.bindings.filter((b) => b.access !== 'uniform').length)),
        maxComputeWorkgroupsPerDimension: Math.max(1, ...dispatches.flatMap((d) => d.workgroups)),
        maxComputeInvocationsPerWorkgroup: Math.max(1, ...kernels.map((k) => k.workgroupSize[0] * k.workgroupSize[1] * k.workgroupSize[2])),
      },
    },
    inputs,
    outputs,
    buffers: [
      ...(plan.weights.byteLength ? [{ id: WEIGHTS_BUFFER, kind: 'weights' as const, bytes: plan.weights.byteLength, source: { file: 'weights.bin', offset: 0 } }] : []),
      ...plan.slotBytes.map((bytes, k) => ({ id: FIRST_SLOT_BUFFER + k, kind: 'arena' as const, bytes })),
      ...(plan.uniformBytes ? [{ id: FIRST_SLOT_BUFFER + plan.slotBytes.length, kind: 'uniform' as const, bytes: plan.uniformBytes }] : []),
    ],
    kernels,
    entryPoints: { run: dispatches },
    memory: { arenaBytes: plan.arenaBytes, noReuseBytes: plan.noReuseBytes, weightsBytes: plan.weights.byteLength },
    files: Object.fromEntries([...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, bytes]) => [path, { sha256: sha256(bytes), bytes: bytes.byteLength }])),
  };
  return { manifest, files };
}
