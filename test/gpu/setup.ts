// Vitest global setup for the GPU project: acquire an adapter once, print what it is, and throw when there is
// none, so a machine without WebGPU fails the run instead of silently skipping every kernel test.
import { acquireDevice } from '../../runtime/device.js';

export default async function setup(): Promise<void> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const acquired = await acquireDevice({ optionalFeatures: ['shader-f16'] });
  try {
    const f16 = acquired.features.has('shader-f16') ? 'shader-f16' : 'no shader-f16';
    console.log(`WebGPU adapter: ${acquired.adapterInfo} (${f16})`);
  } finally {
    acquired.release();
  }
}
