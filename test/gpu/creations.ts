// Counting what a session creates on its device: the symbolic-dims tests assert that run() creates no pipeline,
// shader module, bind group or buffer (one artifact serves every size with what load() made).
const CREATORS = ['createComputePipeline', 'createComputePipelineAsync', 'createShaderModule', 'createBindGroup', 'createBuffer'] as const;

/** The number of device create* calls made while `during` runs. */
export async function creations(device: GPUDevice, during: () => Promise<void>): Promise<number> {
  const dev = device as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = CREATORS.map((n) => dev[n]!);
  let count = 0;
  CREATORS.forEach((n, i) => {
    dev[n] = (...a: unknown[]) => {
      count++;
      return saved[i]!.apply(device, a);
    };
  });
  try {
    await during();
  } finally {
    CREATORS.forEach((n, i) => (dev[n] = saved[i]!));
  }
  return count;
}
