// The artifact's manifest: the whole execution plan as JSON-serialisable data. The compiler writes it, the
// runtime executes it and knows no ops: buffers to create, kernels (WGSL files) to build into pipelines, and per
// entry point an ordered list of dispatches with their buffer bindings. Bumping MANIFEST_VERSION is required for
// any change a runtime of the previous version would misread.

export const MANIFEST_FORMAT = 'kiln-artifact';
export const MANIFEST_VERSION = 1;

/** Element types as stored in buffers (the IR's dtype names). */
export type StorageDType = string;

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly model: { readonly name: string; readonly source: string; readonly compiler: string };
  /** What the device must offer. */
  readonly requires: {
    readonly features: readonly string[];
    readonly limits: Readonly<Record<string, number>>;
  };
  readonly inputs: readonly IOTensor[];
  readonly outputs: readonly IOTensor[];
  readonly buffers: readonly BufferDecl[];
  readonly kernels: readonly KernelDecl[];
  /** Dispatch lists by entry point name ('run'; later 'prefill'/'decode'). */
  readonly entryPoints: Readonly<Record<string, readonly Dispatch[]>>;
  /** Activation arena size against the no-reuse total (what memory planning saved). */
  readonly memory?: { readonly arenaBytes: number; readonly noReuseBytes: number; readonly weightsBytes: number };
  /** sha256 (hex) and size of every other file in the artifact, by relative path. */
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly bytes: number }>>;
}

/** A byte range of one buffer. */
export interface Region {
  readonly buffer: number;
  readonly offset: number;
  readonly bytes: number;
}

export interface IOTensor {
  readonly name: string;
  /** The dtype the data has on the device. */
  readonly dtype: StorageDType;
  /** The dtype the source model declared when import narrowed or widened it (e.g. 'int64' held as i32). */
  readonly declaredDtype?: string;
  readonly shape: readonly (number | string)[];
  readonly region: Region;
}

export interface BufferDecl {
  readonly id: number;
  /**
   * weights: filled from `source` at load; arena: activations (inputs, intermediates, outputs) and kernel
   * temporaries; uniform: scalar inputs read by kernels as uniforms (written per run like any input).
   */
  readonly kind: 'weights' | 'arena' | 'uniform';
  readonly bytes: number;
  /** For weights: where the initial contents come from. */
  readonly source?: { readonly file: string; readonly offset: number };
}

export interface KernelDecl {
  readonly id: number;
  /** Relative path of the WGSL file. */
  readonly file: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly bindings: readonly { readonly binding: number; readonly access: 'read' | 'read_write' | 'uniform' }[];
}

export interface Dispatch {
  readonly kernel: number;
  /** One region per kernel binding, in binding order. */
  readonly bindings: readonly Region[];
  readonly workgroups: readonly [number, number, number];
  /** The node(s) this dispatch computes, for error messages and profiles. */
  readonly label: string;
  /** Predicted work and traffic, for `kiln inspect` (the runtime ignores it). */
  readonly cost?: { readonly flops: number; readonly bytesRead: number; readonly bytesWritten: number };
}

/** Problems with a manifest's shape, as messages (empty when it is well-formed). */
export function checkManifest(m: unknown): string[] {
  const problems: string[] = [];
  const o = m as Partial<Manifest> | null;
  if (!o || typeof o !== 'object') return ['manifest is not a JSON object'];
  if (o.format !== MANIFEST_FORMAT) problems.push(`format is ${JSON.stringify(o.format)}, expected "${MANIFEST_FORMAT}"`);
  if (o.version !== MANIFEST_VERSION)
    problems.push(`manifest version ${JSON.stringify(o.version)} is not supported by this runtime (it reads version ${MANIFEST_VERSION}); recompile the model with a matching kiln`);
  for (const key of ['inputs', 'outputs', 'buffers', 'kernels'] as const) if (!Array.isArray(o[key])) problems.push(`"${key}" must be a list`);
  if (!o.entryPoints || typeof o.entryPoints !== 'object') problems.push('"entryPoints" must be an object');
  if (!o.files || typeof o.files !== 'object') problems.push('"files" must be an object');
  if (problems.length) return problems;
  const buffers = new Map(o.buffers!.map((b) => [b.id, b]));
  const checkRegion = (r: Region, where: string): void => {
    const b = buffers.get(r.buffer);
    if (!b) problems.push(`${where}: unknown buffer ${r.buffer}`);
    else if (r.offset < 0 || r.bytes < 0 || r.offset + r.bytes > b.bytes) problems.push(`${where}: range ${r.offset}+${r.bytes} exceeds buffer ${r.buffer} (${b.bytes} bytes)`);
  };
  for (const t of [...o.inputs!, ...o.outputs!]) checkRegion(t.region, `tensor ${t.name}`);
  for (const [entry, list] of Object.entries(o.entryPoints!))
    list.forEach((d, i) => {
      const k = o.kernels!.find((x) => x.id === d.kernel);
      if (!k) problems.push(`${entry}[${i}] (${d.label}): unknown kernel ${d.kernel}`);
      else if (k.bindings.length !== d.bindings.length) problems.push(`${entry}[${i}] (${d.label}): ${d.bindings.length} bindings for a kernel with ${k.bindings.length}`);
      d.bindings.forEach((r, j) => checkRegion(r, `${entry}[${i}] (${d.label}) binding ${j}`));
    });
  return problems;
}
