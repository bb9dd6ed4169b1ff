// An artifact served from memory (no directory): what tests, benchmarks and the conformance runner load into a
// runtime Session right after compiling.
import type { Artifact } from '../compile.js';
import { materialize } from '../memory/lazy-file.js';

/**
 * The shape of the runtime's ArtifactFiles (runtime/files.ts), which Session.load accepts. Spelled out here, not
 * imported: outside the CLI the compiler shares only the artifact contract with the runtime (plan, codec, limits).
 */
export interface InMemoryArtifactFiles {
  readonly where: string;
  read(path: string): Promise<Uint8Array>;
}

export function artifactFiles(artifact: Artifact, where = 'memory'): InMemoryArtifactFiles {
  const files = new Map([...artifact.files].map(([path, f]) => [path, materialize(f)]));
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(artifact.manifest)));
  return {
    where,
    read: async (path) => {
      const f = files.get(path);
      if (!f) throw new Error(`${where}: no file ${path} in the artifact`);
      return f;
    },
  };
}
