// The runtime ships inside every artifact as one minified module (runtime.js), so its size is a budget: 29 KB
// (24 KB until run-time branches and symbolic dims, which the plan now carries and the runtime executes, added 4 KB;
// 28 KB until the wait pacer, runtime/wait-pacing.ts, which Node needs and a browser bundle carries switched off).
// Built here in memory with exactly the options scripts/bundle-runtime.mjs uses.
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { RUNTIME_BUNDLE_BUDGET, RUNTIME_BUNDLE_OPTIONS } from '../../scripts/lib/runtime-bundle-options.mjs';

describe('runtime bundle', () => {
  it(`fits its budget of ${RUNTIME_BUNDLE_BUDGET} bytes`, async () => {
    const result = await build({ ...RUNTIME_BUNDLE_OPTIONS, outfile: 'runtime.bundle.js', write: false });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles).toHaveLength(1);
    const bytes = result.outputFiles[0]!.contents.byteLength;
    console.log(`runtime bundle: ${bytes} bytes (budget ${RUNTIME_BUNDLE_BUDGET}, ${RUNTIME_BUNDLE_BUDGET - bytes} to spare)`);
    expect(RUNTIME_BUNDLE_BUDGET).toBe(29 * 1024);
    expect(bytes).toBeLessThanOrEqual(29 * 1024);
  });

  it('holds runtime/ and nothing else', async () => {
    const result = await build({ ...RUNTIME_BUNDLE_OPTIONS, outfile: 'runtime.bundle.js', write: false, metafile: true });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.every((p) => p.startsWith('runtime/')), inputs.join(', ')).toBe(true);
  });
});
