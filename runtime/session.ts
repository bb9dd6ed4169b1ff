// A loaded artifact on a device. load() checks the manifest and every file's hash before anything reaches the
// GPU, creates buffers, uploads weights while pipelines compile, and pre-builds every bind group. run() writes
// the inputs, records one command encoder with every dispatch and the output copies, submits once, and reads
// back. dispose() releases the device, after which a Node process can exit on its own.
import { type TypedArray, byteLength, ceil4, decode, encode, pad4 } from './codec.js';
import { type AcquiredDevice, isNode } from './device.js';
import { sessionDevice } from './session-device.js';
import { withErrorScopes, InputValidationError } from './errors.js';
import { readManifest, readOneVerified, readVerified } from './artifact-read.js';
import { ArtifactError, type ArtifactFiles, openArtifact } from './files.js';
import { type GenerateOptions, generate } from './generate.js';
import { LossWatch } from './device-loss.js';
import { checkLimits } from './limits.js';
import { kernelPipeline } from './pipelines.js';
import { bindSymbols, dimsUniform, evalManifestDim } from './dims.js';
import type { IOTensor, Manifest, ManifestDim, Region } from './plan.js';
import type { DispatchProbe } from './probe.js';
import { toNumbers } from './inputs.js';
import { WaitPacer } from './wait-pacing.js';

export interface LoadOptions {
  /**
   * Use a device of its own from this GPU (e.g. navigator.gpu, or a `webgpu` create() result). Without `gpu` or
   * `device`, sessions share one device per process (device-pool.ts).
   */
  readonly gpu?: GPU;
  /**
   * Run on this already-acquired device instead of acquiring one (many sessions can share it); the session then
   * does not release it on dispose(). Its features must include the model's required features.
   */
  readonly device?: AcquiredDevice;
  /**
   * Called as load() works: weights bytes uploaded and pipelines created, `done` of `total`, each stage first
   * with done 0 (pipelines build in parallel with the upload, so the two stages interleave).
   */
  readonly onProgress?: (p: LoadProgress) => void;
  /** Sleep through most of a run's expected GPU time instead of letting Dawn poll (wait-pacing.ts; default: in Node). */
  readonly pacing?: boolean;
}

/** A step of Session.load: see LoadOptions.onProgress. */
export interface LoadProgress {
  readonly stage: 'weights' | 'pipelines';
  readonly done: number;
  readonly total: number;
}

/** An input's values; an input with symbolic dims also needs its shape for this run ({ data, shape }). */
export type InputValue = ArrayLike<number> | TypedArray | BigInt64Array | { readonly data: ArrayLike<number> | TypedArray | BigInt64Array; readonly shape: readonly number[] };

export interface OutputTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export { InputValidationError };

// GPUBufferUsage flags are written as numbers (STORAGE 0x80, UNIFORM 0x40, COPY_DST 0x08, COPY_SRC 0x04, MAP_READ
// 0x01) so the runtime needs no globals before load.

/** One dispatch, ready to record: its pipeline, bind group and workgroup counts. */
type Step = readonly [GPUComputePipeline, GPUBindGroup, readonly ManifestDim[]];

const names = (tensors: readonly IOTensor[]): string => tensors.map((t) => t.name).join(', ');

function numel(shape: readonly ManifestDim[]): number {
  return shape.reduce<number>((n, d) => n * (typeof d === 'number' ? d : NaN), 1);
}

/** An input's data and shape for this run: the given shape, or the declared one when it is static. */
function inputOf(t: IOTensor, value: InputValue): { data: ArrayLike<number> | TypedArray | BigInt64Array; shape: readonly number[] } {
  if ('shape' in value && 'data' in value) {
    if (value.shape.length !== t.shape.length || value.shape.some((d, i) => (typeof t.shape[i] === 'number' ? d !== t.shape[i] : !Number.isInteger(d) || d < 0)))
      throw new InputValidationError(`input '${t.name}' has shape [${value.shape.join(',')}]; the model takes [${t.shape.join(',')}]`);
    return value;
  }
  if (!t.shape.every((d) => typeof d === 'number'))
    throw new InputValidationError(`input '${t.name}' has symbolic shape [${t.shape.join(',')}]: pass { data, shape } to give its size for this run`);
  return { data: value, shape: t.shape as number[] };
}

/** Run options: which outputs to read back (default all; a decode loop reads only the next token). */
export interface RunOptions {
  readonly outputs?: readonly string[];
  /** kiln profile: record each dispatch in a compute pass of its own, which the probe times (probe.ts). */
  readonly probe?: DispatchProbe;
}

/** GPU buffers that sessions created and have not destroyed yet, across the process (soak tests watch it). */
let buffersAlive = 0;
export const gpuBuffersAlive = (): number => buffersAlive;

// Private state is in #fields: the bundle minifies their names (it cannot minify TypeScript `private` ones).
export class Session {
  #disposed = false;
  readonly #loss: LossWatch;
  /** The last queued call: run() and generate() execute one at a time, in call order (they share buffers). */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #acquired: AcquiredDevice;
  readonly #buffers: Map<number, GPUBuffer>;
  /** Per entry point, each dispatch's pipeline, bind group and workgroup counts, in order. */
  readonly #steps: Map<string, Step[]>;
  /** Where outputs are read back (and, first, each branch's condition). */
  readonly #readback: GPUBuffer;
  readonly #pacer: WaitPacer;

  private constructor(
    readonly manifest: Manifest,
    acquired: AcquiredDevice,
    buffers: Map<number, GPUBuffer>,
    steps: Map<string, Step[]>,
    readback: GPUBuffer,
    pacing: boolean,
  ) {
    this.#pacer = new WaitPacer(pacing);
    this.#acquired = acquired;
    this.#buffers = buffers;
    this.#steps = steps;
    this.#readback = readback;
    this.#loss = new LossWatch(acquired.device, `'${manifest.model.name}'`);
  }

  /** The WebGPU device the session runs on (for interop; destroying it makes every later call fail). */
  get device(): GPUDevice {
    return this.#acquired.device;
  }

  get adapterInfo(): string {
    return this.#acquired.adapterInfo;
  }
  /** The main entry point: 'run' when there is one, else the first. */
  get mainEntry(): string {
    return 'run' in this.manifest.entryPoints ? 'run' : Object.keys(this.manifest.entryPoints)[0]!;
  }
  get inputs(): readonly IOTensor[] {
    return this.manifest.entryPoints[this.mainEntry]!.inputs;
  }
  get outputs(): readonly IOTensor[] {
    return this.manifest.entryPoints[this.mainEntry]!.outputs;
  }

  static async load(location: string | URL | ArtifactFiles, opts: LoadOptions = {}): Promise<Session> {
    const files = await openArtifact(location);
    const manifest = await readManifest(files);
    const weightFiles = new Set(manifest.buffers.flatMap((b) => (b.source ? [b.source.file] : [])));
    const contents = await readVerified(files, manifest, (path) => !weightFiles.has(path));
    const acquired = await sessionDevice(manifest, opts);
    const buffers = new Map<number, GPUBuffer>();
    try {
      checkLimits(manifest, acquired.device, acquired.adapter, acquired.adapterInfo);
      const { device } = acquired;
      const pipelines = await withErrorScopes(
        device,
        async () => {
          // State buffers start at zero (WebGPU zero-initialises every buffer).
          for (const b of manifest.buffers)
            buffers.set(
              b.id,
              device.createBuffer({ label: `${b.kind}${b.id}`, size: pad4(b.bytes), usage: b.kind === 'uniform' ? 0x48 /* UNIFORM | COPY_DST */ : 0x8c /* STORAGE | COPY_SRC | COPY_DST */ }),
            );
          // Pipelines compile while the weights pages are read, checked and uploaded one at a time (a page is
          // dropped once uploaded, so a large model never sits whole in memory).
          const tell = (stage: LoadProgress['stage'], done: number, total: number): void => opts.onProgress?.({ stage, done, total });
          const kernels = manifest.kernels.length;
          let built = 0;
          tell('pipelines', 0, kernels);
          const compiled = Promise.all(
            manifest.kernels.map((k) =>
              kernelPipeline(device, k, new TextDecoder().decode(contents.get(k.file)!), `${files.where}/${k.file}`, acquired.adapterInfo).then((p) => {
                tell('pipelines', ++built, kernels);
                return p;
              }),
            ),
          );
          // Observed now: a kernel that fails while the weights upload below is awaited must not count as unhandled
          // (the failure still reaches the caller through `return compiled`).
          compiled.catch(() => undefined);
          const bytes = manifest.buffers.reduce((n, b) => n + (b.source ? b.bytes : 0), 0);
          let sent = 0;
          tell('weights', 0, bytes);
          for (const b of manifest.buffers) {
            if (!b.source) continue;
            const file = await readOneVerified(files, manifest, b.source.file);
            if (b.source.offset + b.bytes > file.byteLength) throw new ArtifactError(`${files.where}: buffer ${b.id} reads past the end of ${b.source.file}`);
            // The compiler pads every weights page to a multiple of four bytes, as writeBuffer requires.
            device.queue.writeBuffer(buffers.get(b.id)!, 0, file, b.source.offset, ceil4(b.bytes));
            tell('weights', (sent += b.bytes), bytes);
          }
          return compiled;
        },
        `loading ${files.where}`,
      );
      const pipelineOf = new Map(manifest.kernels.map((k, i) => [k.id, pipelines[i]!]));
      const steps = new Map<string, Step[]>();
      await withErrorScopes(
        device,
        () => {
          for (const [entry, e] of Object.entries(manifest.entryPoints))
            steps.set(
              entry,
              e.dispatches.map((d) => {
                const pipeline = pipelineOf.get(d.kernel)!;
                const group = device.createBindGroup({
                  label: d.label,
                  layout: pipeline.getBindGroupLayout(0),
                  entries: d.bindings.map((r, j) => ({ binding: j, resource: { buffer: buffers.get(r.buffer)!, offset: r.offset, size: pad4(r.bytes) } })),
                });
                return [pipeline, group, d.workgroups];
              }),
            );
        },
        'creating bind groups',
      );
      const readBytes = Math.max(
        4,
        ...Object.values(manifest.entryPoints).map((e) => e.outputs.reduce((s, o) => s + ceil4(o.region.bytes), 0)),
      );
      const readback = device.createBuffer({ label: 'readback', size: readBytes, usage: 0x09 /* MAP_READ | COPY_DST */ });
      buffersAlive += buffers.size + 1;
      return new Session(manifest, acquired, buffers, steps, readback, opts.pacing ?? isNode());
    } catch (e) {
      for (const b of buffers.values()) b.destroy();
      acquired.release();
      throw e;
    }
  }

  /**
   * Run an entry point (the main one by default) on named inputs; returns its outputs by name. Concurrent calls are
   * queued and run one at a time in call order.
   */
  run(inputs: Readonly<Record<string, InputValue>>, entry = this.mainEntry, opts: RunOptions = {}): Promise<Record<string, OutputTensor>> {
    return this.#exclusive(() => this.#runNow(inputs, entry, opts));
  }

  /** Generation (decoder artifacts), greedy or sampled: see generate.ts. Returns the new tokens. Holds the queue. */
  generate(ids: readonly number[], opts: GenerateOptions = {}): Promise<number[]> {
    return this.#exclusive(() => generate({ manifest: this.manifest, run: (i, e, o) => this.#runNow(i, e, o) }, ids, opts));
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(work, work);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #runNow(inputs: Readonly<Record<string, InputValue>>, entry: string, opts: RunOptions): Promise<Record<string, OutputTensor>> {
    if (this.#disposed) throw new Error('session was disposed');
    this.#loss.check();
    const ep = this.manifest.entryPoints[entry];
    const steps = this.#steps.get(entry);
    if (!ep || !steps) throw new InputValidationError(`no entry point '${entry}' (have: ${Object.keys(this.manifest.entryPoints).join(', ')})`);
    const { device } = this.#acquired;
    for (const name of Object.keys(inputs))
      if (!ep.inputs.some((i) => i.name === name))
        throw new InputValidationError(`unknown input '${name}' (entry '${entry}' takes: ${names(ep.inputs)})`);
    const outShape = (o: IOTensor): number[] => o.shape.map((d) => evalManifestDim(d, values));
    const wanted = opts.outputs ? ep.outputs.filter((o) => opts.outputs!.includes(o.name)) : ep.outputs;
    for (const name of opts.outputs ?? [])
      if (!ep.outputs.some((o) => o.name === name)) throw new InputValidationError(`unknown output '${name}' (entry '${entry}' has: ${names(ep.outputs)})`);
    const given = ep.inputs.map((t) => {
      const value = inputs[t.name];
      if (value === undefined) throw new InputValidationError(`missing input '${t.name}' (${t.dtype}[${t.shape.join(',')}])`);
      const given = inputOf(t, value);
      const count = numel(given.shape);
      if (given.data.length !== count) throw new InputValidationError(`input '${t.name}' has ${given.data.length} values; its shape [${given.shape.join(',')}] needs ${count}`);
      return given;
    });
    // Symbolic dims: their values come from the input shapes, go to the kernels through the dims uniform, and size
    // the dispatches and outputs below (dims.ts). Nothing is compiled or created per run.
    const symbols = this.manifest.symbols ?? [];
    const values = symbols.length ? bindSymbols(symbols, ep.inputs, (t) => given[ep.inputs.indexOf(t)]!.shape) : new Map<string, number>();
    const uploads = ep.inputs.map((t, i) => {
      const { data, shape } = given[i]!;
      const count = numel(shape);
      return { region: t.region, bytes: encode(t.dtype, toNumbers(t, data), count === numel(t.shape) ? t.region.bytes : 0) };
    });
    if (symbols.length) uploads.push({ region: this.#dimsRegion(), bytes: new Uint8Array(dimsUniform(symbols, values).buffer) });
    await this.#loss.guard(withErrorScopes(
      device,
      async () => {
        for (const u of uploads) device.queue.writeBuffer(this.#buffer(u.region), u.region.offset, u.bytes, 0, ceil4(Math.min(u.bytes.byteLength, u.region.bytes)));
        // At a branch (an If whose condition is known only at run time) the runtime decides on the CPU: it submits
        // what it has recorded, copies the condition's 4 bytes (a bool stored as u32) into the read-back buffer,
        // waits for them, and records only the taken side. Each branch reached costs one 4-byte read-back; the
        // untaken side costs nothing.
        const branches = ep.branches ?? [];
        const cond = this.#readback;
        let encoder!: GPUCommandEncoder;
        let pass!: GPUComputePassEncoder;
        const open = (): void => {
          encoder = device.createCommandEncoder({ label: entry });
          pass = encoder.beginComputePass();
        };
        // Runs dispatches [i, to) inside branch `within` (an index into branches; -1: none). Branches are listed
        // enclosing before nested, so the ones nested here come after `within`.
        const run = async (i: number, to: number, within: number): Promise<void> => {
          while (i < to) {
            const k = branches.findIndex((b, j) => j > within && b.then === i);
            const b = branches[k];
            if (!b) {
              if (opts.probe) {
                pass.end();
                pass = encoder.beginComputePass(opts.probe.pass(i));
              }
              const [pipeline, group, workgroups] = steps[i++]!;
              pass.setPipeline(pipeline);
              pass.setBindGroup(0, group);
              const [x, y, z] = workgroups.map((w) => evalManifestDim(w, values)) as [number, number, number];
              if (x > 0 && y > 0 && z > 0) pass.dispatchWorkgroups(x, y, z);
              if (opts.probe) {
                pass.end();
                if (await opts.probe.after(i - 1, encoder)) open();
                else pass = encoder.beginComputePass();
              }
              continue;
            }
            pass.end();
            encoder.copyBufferToBuffer(this.#buffer(b.condition), b.condition.offset, cond, 0, 4);
            device.queue.submit([encoder.finish()]);
            await cond.mapAsync(1 /* GPUMapMode.READ */);
            const taken = new Uint32Array(cond.getMappedRange())[0];
            cond.unmap();
            open();
            await run(taken ? b.then : b.else, taken ? b.else : b.end, k);
            i = b.end;
          }
        };
        open();
        await run(0, steps.length, -1);
        pass.end();
        opts.probe?.end(encoder);
        let at = 0;
        for (const o of wanted) {
          const size = ceil4(byteLength(o.dtype, numel(outShape(o))));
          if (size > 0) encoder.copyBufferToBuffer(this.#buffer(o.region), o.region.offset, this.#readback, at, size);
          at += size;
        }
        device.queue.submit([encoder.finish()]);
      },
      `running '${entry}'`,
    ));
    await this.#pacer.wait(`${entry} ${[...values.values()].join(',')}`, () => this.#loss.guard(this.#readback.mapAsync(1 /* GPUMapMode.READ */)));
    try {
      const all = new Uint8Array(this.#readback.getMappedRange()).slice();
      const out: Record<string, OutputTensor> = {};
      let at = 0;
      for (const o of wanted) {
        const shape = outShape(o);
        const count = numel(shape);
        out[o.name] = { dtype: o.dtype, shape, data: decode(o.dtype, all.subarray(at, at + byteLength(o.dtype, count)), count) };
        at += ceil4(byteLength(o.dtype, count));
      }
      return out;
    } finally {
      this.#readback.unmap();
    }
  }

  /** Where the dims uniform lives (artifacts with symbols). */
  #dimsRegion(): Region {
    const id = this.manifest.dimsBuffer;
    const b = this.manifest.buffers.find((x) => x.id === id);
    if (id === undefined || !b) throw new ArtifactError('the manifest declares symbols but no dims buffer');
    return { buffer: id, offset: 0, bytes: b.bytes };
  }

  /** Release every GPU resource and the device. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#buffers.values()) b.destroy();
    this.#readback.destroy();
    buffersAlive -= this.#buffers.size + 1;
    this.#acquired.release();
  }

  #buffer(r: Region): GPUBuffer {
    return this.#buffers.get(r.buffer)!;
  }
}
