// kiln's version, in one place: the "version" of the package.json that ships with this module, read once at load.
// `kiln --version` prints it and every manifest records `kiln <version>` as its compiler (COMPILER_ID), so the two
// always agree with the package a user installed. The file is found relative to this module, which works from the
// sources (compiler/version.ts, run by tsx: ../package.json), from the build (dist/compiler/version.js:
// ../../package.json) and from an installed tarball (node_modules/kiln/dist/compiler/version.js, the same).
import { readFileSync } from 'node:fs';

const CANDIDATES = ['../package.json', '../../package.json'];

function readPackageVersion(): string {
  for (const candidate of CANDIDATES) {
    let text: string;
    try {
      text = readFileSync(new URL(candidate, import.meta.url), 'utf8');
    } catch {
      continue;
    }
    const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
    if (pkg.name === 'kiln' && typeof pkg.version === 'string') return pkg.version;
  }
  throw new Error(`kiln's package.json was not found next to ${import.meta.url} (looked for ${CANDIDATES.join(', ')})`);
}

/** The package version, e.g. "0.2.0". */
export const KILN_VERSION: string = readPackageVersion();

/** What a manifest records as the compiler that wrote it (model.compiler), e.g. "kiln 0.2.0". */
export const COMPILER_ID = `kiln ${KILN_VERSION}`;
