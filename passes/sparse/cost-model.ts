// The cost model that decides, per matmul weight, between kiln's dense kernel and the two sparse (Tiled-CSL)
// kernels: 'direct' multiplies only the non-zeros (work ~ nnz*N), 'scatter' expands each tile into workgroup
// memory and multiplies densely (Flash-LLM's LSCD; work ~ M*K*N, fewer bytes). A kernel's time is modelled as
// the larger of its bytes over the device's read bandwidth and its multiply-adds over the rate that kernel
// reaches, plus a per-dispatch overhead. The rates are measured per device (npm run bench:sparse prints them),
// so the choice is "what measures faster on this target", not a fixed sparsity threshold.

export type MatmulKernel = 'dense' | 'direct' | 'scatter';

export interface DeviceProfile {
  readonly name: string;
  /** Where the numbers come from. */
  readonly source: string;
  /** Sustained read bandwidth, bytes per millisecond. */
  readonly bytesPerMs: number;
  /** Multiply-adds per millisecond each kernel reaches on skinny shapes. */
  readonly denseMacsPerMs: number;
  readonly directMacsPerMs: number;
  readonly scatterMacsPerMs: number;
  /** Fixed cost of one dispatch, milliseconds. */
  readonly dispatchMs: number;
  // The traffic model's terms (compiler/traffic/): optional so a profile fitted by bench:sparse, which measures
  // none of them, stays a profile; compiler/traffic/device.ts says what stands in for a missing one.
  /** Sustained write bandwidth, bytes per millisecond. */
  readonly writeBytesPerMs?: number;
  /** Bytes one memory transaction moves: the least a scattered or strided access of one element costs. */
  readonly transactionBytes?: number;
  /** Cost of one more dispatch inside a command buffer (not a whole submit: that is dispatchMs), milliseconds. */
  readonly launchMs?: number;
  /** Arithmetic rate of kernels other than the matmuls costed above, flops per millisecond. */
  readonly flopsPerMs?: number;
  /**
   * Flops per millisecond of the arranged GEMV kernel over more than 8 activation rows (a prefill reading decode
   * panels, compiler/kernels/gemv-arranged.ts); absent, arrange-layout never arranges a weight a GEMM reads.
   */
  readonly panelFlopsPerMs?: number;
  /** One invocation's wait at one workgroup barrier, milliseconds (the traffic model; absent: free). */
  readonly barrierMs?: number;
  /** Kernel choices measured on the device (`kiln tune`); absent, the compiler's own models choose. */
  readonly tuning?: KernelTuning;
}

/**
 * Measured kernel configurations, each optional (absent: the compiler's default). Checked on load by
 * profile-file.ts, which holds each field's allowed values.
 */
export interface KernelTuning {
  /** GEMV weight panels (passes/layout/cost.ts): the one panel width arrange-layout considers; 0 keeps row-major. */
  readonly gemvPanel?: number;
  /** K rows per step of the arranged GEMV kernel (compiler/lower/arranged-gemv-lowering.ts). */
  readonly gemvUnroll?: 4 | 8;
}

export interface MatmulShape {
  readonly m: number;
  readonly k: number;
  /** Rows of the activation (tokens). */
  readonly n: number;
  readonly nnz: number;
  /** Bytes of one dense weight element as the model stores it (4 for f32). */
  readonly denseElementBytes: number;
  /** Bytes of the sparse encoding (items + offsets). */
  readonly sparseBytes: number;
}

export interface KernelEstimate {
  readonly kernel: MatmulKernel;
  readonly ms: number;
  readonly bytes: number;
  readonly macs: number;
}

export function estimate(p: DeviceProfile, s: MatmulShape, kernel: MatmulKernel): KernelEstimate {
  const activations = 4 * s.n * (s.k + s.m);
  const bytes = (kernel === 'dense' ? s.m * s.k * s.denseElementBytes : s.sparseBytes) + activations;
  const macs = kernel === 'direct' ? s.nnz * s.n : s.m * s.k * s.n;
  const rate = kernel === 'dense' ? p.denseMacsPerMs : kernel === 'direct' ? p.directMacsPerMs : p.scatterMacsPerMs;
  return { kernel, ms: Math.max(bytes / p.bytesPerMs, macs / rate) + p.dispatchMs, bytes, macs };
}

/** Every kernel's estimate, fastest first (ties keep dense first: no re-encoding for nothing). */
export function rankKernels(p: DeviceProfile, s: MatmulShape): KernelEstimate[] {
  return (['dense', 'direct', 'scatter'] as const).map((k) => estimate(p, s, k)).sort((a, b) => a.ms - b.ms);
}
