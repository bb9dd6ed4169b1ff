// The traffic model: what one dispatch moves through memory, and how long that takes on a device. A kernel
// describes each binding it touches as streams (families.ts): `bytes` of useful data requested in pieces of
// `run` contiguous bytes, the whole repeated `times` (a tile that re-loads an operand per output tile). The
// device moves memory in transactions of `transactionBytes`, so a piece costs its size rounded up to whole
// transactions: a contiguous stream costs its bytes, a strided or gathered 4-byte element a whole transaction.
// Time is the roofline: the larger of the transaction bytes over the bandwidth and the flops over the compute
// rate, plus the cost of launching one more dispatch.

/**
 * [binding index, useful bytes, contiguous bytes per request, times the whole is read or written, and for strided
 * reads the bytes from one request's start to the next] (step absent: requests share no transaction).
 */
export type Stream = readonly [binding: number, bytes: number, run: number, times: number, step?: number];

export interface Rates {
  readonly readBytesPerMs: number;
  readonly writeBytesPerMs: number;
  readonly transactionBytes: number;
  readonly flopsPerMs: number;
  readonly launchMs: number;
  /** One invocation's wait at one workgroup barrier (0: free). */
  readonly barrierMs: number;
}

export interface Prediction {
  /** Bytes moved, counted in whole transactions. */
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** The roofline time: max(memory, compute), without the launch cost. */
  readonly rooflineMs: number;
  /** rooflineMs plus the launch cost: what the dispatch is predicted to take. */
  readonly ms: number;
}

export const stream = (binding: number, bytes: number, run = bytes, times = 1, step?: number): Stream =>
  step === undefined ? [binding, bytes, Math.max(1, Math.min(run, bytes)), times] : [binding, bytes, Math.max(1, Math.min(run, bytes)), times, step];

/** A stream's bytes at transaction granularity: every request of `run` bytes costs whole transactions. */
export function streamBytes([, bytes, run, times, step]: Stream, transactionBytes: number): number {
  if (bytes <= 0 || times <= 0) return 0;
  const piece = Math.min(run, bytes);
  const whole = Math.ceil(piece / transactionBytes) * transactionBytes;
  // Requests closer together than a transaction share it: each costs the distance to the next (at least its size).
  const perRequest = step === undefined ? whole : Math.min(whole, Math.max(step, piece));
  return times * Math.ceil(bytes / piece) * perRequest;
}

/** Predicted bytes and time of one dispatch from its streams; `writes` says which bindings a stream writes. */
/**
 * `barriers`: barrier waits over the whole dispatch (rounds x workgroups x invocations per workgroup), a cost of
 * their own on adapters where a barrier switches every invocation (lavapipe), added like the launch cost: the
 * roofline says what the bytes and flops allow, `ms` what the kernel's structure adds on top.
 */
export function predict(streams: readonly Stream[], writes: (binding: number) => boolean, flops: number, r: Rates, barriers = 0): Prediction {
  let bytesRead = 0;
  let bytesWritten = 0;
  for (const s of streams) {
    const b = streamBytes(s, r.transactionBytes);
    if (writes(s[0])) bytesWritten += b;
    else bytesRead += b;
  }
  const rooflineMs = Math.max(bytesRead / r.readBytesPerMs + bytesWritten / r.writeBytesPerMs, flops / r.flopsPerMs);
  return { bytesRead, bytesWritten, rooflineMs, ms: rooflineMs + r.launchMs + barriers * r.barrierMs };
}
