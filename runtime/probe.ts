// Timing each dispatch of a run (kiln profile). The session records a probed run with every dispatch in a compute
// pass of its own (RunOptions.probe); the probes here time those passes. Not exported from index.ts, so the
// shipped runtime bundle carries only the few lines of session.ts that call a probe, not this module.
//   timestampProbe: the adapter's `timestamp-query` feature; each pass writes a GPU timestamp at its beginning and
//                   end, resolved after the last dispatch. The times are the device's own.
//   submitProbe:    without the feature, each dispatch is submitted alone and timed on the CPU from submit to
//                   onSubmittedWorkDone; it includes a submit's overhead (the first also the run's input uploads).

export interface DispatchProbe {
  /** The descriptor of the compute pass dispatch `i` is recorded in, alone. */
  pass(i: number): GPUComputePassDescriptor;
  /** Called with dispatch `i`'s pass ended: true if the probe submitted `encoder` (the session opens a new one). */
  after(i: number, encoder: GPUCommandEncoder): Promise<boolean>;
  /** Called with the last encoder, before the session submits it. */
  end(encoder: GPUCommandEncoder): void;
}

export interface DispatchTimer extends DispatchProbe {
  readonly method: 'timestamp-query' | 'submit';
  /** Per dispatch, milliseconds of the run just made (NaN for a dispatch that did not run); call once per run. */
  read(): Promise<number[]>;
  destroy(): void;
}

export function timestampProbe(device: GPUDevice, dispatches: number): DispatchTimer {
  const count = 2 * Math.max(1, dispatches);
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolved = device.createBuffer({ size: 8 * count, usage: 0x200 | 0x04 /* QUERY_RESOLVE | COPY_SRC */ });
  const readback = device.createBuffer({ size: 8 * count, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ });
  let ran = new Set<number>();
  return {
    method: 'timestamp-query',
    pass: (i) => {
      ran.add(i);
      return { timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
    },
    after: async () => false,
    end(encoder) {
      encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, readback, 0, 8 * count);
    },
    async read() {
      await readback.mapAsync(1 /* GPUMapMode.READ */);
      const t = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const ms = Array.from({ length: dispatches }, (_, i) => (ran.has(i) ? Number(t[2 * i + 1]! - t[2 * i]!) / 1e6 : NaN));
      ran = new Set();
      return ms;
    },
    destroy() {
      querySet.destroy();
      resolved.destroy();
      readback.destroy();
    },
  };
}

export function submitProbe(device: GPUDevice, dispatches: number): DispatchTimer {
  let ms: number[] = new Array<number>(dispatches).fill(NaN);
  return {
    method: 'submit',
    pass: () => ({}),
    async after(i, encoder) {
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      ms[i] = performance.now() - start;
      return true;
    },
    end: () => undefined,
    async read() {
      const out = ms;
      ms = new Array<number>(dispatches).fill(NaN);
      return out;
    },
    destroy: () => undefined,
  };
}
