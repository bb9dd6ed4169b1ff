// The shared test material (../shared: ONNX conformance cases, real models) sits next to the repository on
// developer and CI machines, not on a user's. Tests over it run whenever it is present; CI sets
// KILN_REQUIRE_SHARED=1 so that a missing folder fails the run instead of quietly skipping those tests.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const SHARED = resolve(process.env.KILN_SHARED_DIR ?? resolve(import.meta.dirname, '../../../shared'));

export function sharedDir(): string | undefined {
  if (existsSync(SHARED)) return SHARED;
  if (process.env.KILN_REQUIRE_SHARED === '1')
    throw new Error(`KILN_REQUIRE_SHARED=1 but the shared test material is missing at ${SHARED} (set KILN_SHARED_DIR)`);
  return undefined;
}

/** True when the shared material is present (throws in CI when it must be and is not). */
export const haveShared = (): boolean => sharedDir() !== undefined;
