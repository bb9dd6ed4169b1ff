// An artifact served from memory (no directory): what tests, benchmarks and the conformance runner load into a
// runtime Session right after compiling.
import type { ArtifactFiles } from '../../runtime/files.js';
import type { Artifact } from '../compile.js';
import { materialize } from '../memory/lazy-file.js';

export function artifactFiles(artifact: Artifact, where = 'memory'): ArtifactFiles {
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
