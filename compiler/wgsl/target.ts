// The device capabilities a kernel is compiled for (part of every kernel spec; compiler/compile.ts records the
// features the emitted kernels use in the manifest's requires.features).
export interface Target {
  /** f16 tensors are array<f16> and computed as f16; without it they are packed two per u32. */
  readonly shaderF16: boolean;
  /**
   * The `subgroups` feature: kernels may share values across a subgroup (subgroupBroadcast). Only what WebGPU
   * guarantees everywhere is assumed: subgroups of at least 4 invocations.
   */
  readonly subgroups?: boolean;
}
