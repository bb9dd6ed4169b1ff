// A damaged manifest.json at load on the adapter: Session.load either loads the artifact (the damage was
// harmless, e.g. a label) or rejects with one of the runtime's own errors (ArtifactError, DeviceError, LimitError,
// GpuError), never with a TypeError or RangeError from inside the runtime.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { parseKir } from '../../ir/index.js';
import { type ArtifactFiles, Session } from '../../runtime/index.js';
import { SMALL_KIR as SMALL, arbMutation, mutate } from '../../scripts/lib/manifest-mutations.js';
import { testGpu } from './harness.js';

/** The runtime's own errors: the artifact's, the device's and its limits', and WebGPU's scoped errors (GpuError's names). */
const USER_ERRORS = ['ArtifactError', 'DeviceError', 'LimitError', 'GPUValidationError', 'GPUOutOfMemoryError', 'GPUInternalError'];

describe('a damaged manifest.json', () => {
  const artifact = compileGraph(parseKir(SMALL, 'm.kir'));
  const files = artifactFiles(artifact);
  const manifest = JSON.parse(JSON.stringify(artifact.manifest));
  /** The artifact with manifest.json replaced by `text`. */
  const withManifestText = (text: string): ArtifactFiles => ({
    where: 'damaged',
    read: async (path) => (path === 'manifest.json' ? new TextEncoder().encode(text) : files.read(path)),
  });
  const withManifest = (m: unknown): ArtifactFiles => withManifestText(JSON.stringify(m));

  it('loads, or fails with ArtifactError, DeviceError, LimitError or GpuError', async () => {
    const gpu = await testGpu();
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(arbMutation(manifest), async (mutation) => {
        try {
          const session = await Session.load(withManifest(mutate(manifest, mutation)), { device: gpu.acquired });
          session.dispose();
        } catch (e) {
          refused++;
          expect(USER_ERRORS, `${JSON.stringify(mutation)}: ${(e as Error).stack}`).toContain((e as Error).name);
        }
      }),
      { numRuns: 150 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('that is not JSON fails naming the file', async () => {
    const gpu = await testGpu();
    const cut = JSON.stringify(manifest).slice(0, 100);
    await expect(Session.load(withManifestText(cut), { device: gpu.acquired })).rejects.toThrow(/damaged\/manifest\.json is not valid JSON/);
  });
});
