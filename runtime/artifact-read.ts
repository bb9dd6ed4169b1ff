// Reading an artifact's files for a load: manifest.json parsed and checked structurally, then every file it lists
// checked against its size and sha256 before any byte of it reaches the GPU.
import { ArtifactError, type ArtifactFiles, sha256Hex } from './files.js';
import { checkManifest } from './manifest-check.js';
import type { Manifest } from './plan.js';

const notListed = (files: ArtifactFiles, what: string): ArtifactError =>
  new ArtifactError(`${files.where}: ${what} is not listed with a hash in the manifest`);

export async function readManifest(files: ArtifactFiles): Promise<Manifest> {
  const bytes = await files.read('manifest.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ArtifactError(`${files.where}/manifest.json is not valid JSON (${(e as Error).message})`);
  }
  const problems = checkManifest(parsed);
  if (problems.length) throw new ArtifactError(`${files.where}/manifest.json: ${problems.join('; ')}`);
  return parsed as Manifest;
}

/** Read one file the manifest lists and check its size and sha256 before it is used. */
export async function readOneVerified(files: ArtifactFiles, m: Manifest, path: string): Promise<Uint8Array> {
  const want = m.files[path];
  if (!want) throw notListed(files, path);
  const bytes = await files.read(path);
  const got = await sha256Hex(bytes);
  if (bytes.byteLength !== want.bytes || got !== want.sha256)
    throw new ArtifactError(
      `${files.where}/${path} does not match the manifest (sha256 ${got.slice(0, 16)}…, ${bytes.byteLength} bytes; expected ${want.sha256.slice(0, 16)}…, ${want.bytes} bytes): the artifact was modified or damaged; copy or compile it again`,
    );
  return bytes;
}

/** Read and check every listed file `wanted` selects (weights pages are read later, one at a time). */
export async function readVerified(files: ArtifactFiles, m: Manifest, wanted: (path: string) => boolean): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const path of Object.keys(m.files)) if (wanted(path)) out.set(path, await readOneVerified(files, m, path));
  for (const k of m.kernels) if (!out.has(k.file)) throw notListed(files, `kernel file ${k.file}`);
  for (const b of m.buffers) if (b.source && !m.files[b.source.file]) throw notListed(files, `weights file ${b.source.file}`);
  return out;
}
