// Device-profile files on disk (`--device-profile file.json`, `kiln tune --out`): reading them here, in the CLI,
// because passes/ stays free of node:fs; passes/sparse/profile-file.ts checks what was read.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { DeviceProfile } from '../../passes/index.js';
import { ProfileFileError, validateDeviceProfile } from '../../passes/sparse/profile-file.js';
import { UsageError } from './errors.js';
import { readText } from './files.js';

/** Whether a --device-profile value names a file rather than a shipped profile. */
export const isProfilePath = (value: string): boolean => /\.json$/i.test(value);

/** The profile in `path`; a missing file, bad JSON or a bad field is one UsageError line naming the file. */
export function readDeviceProfileFile(path: string): DeviceProfile {
  const text = readText(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path}: not a JSON device profile (${(e as Error).message})`);
  }
  try {
    return validateDeviceProfile(parsed, path);
  } catch (e) {
    if (e instanceof ProfileFileError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Refuse to write a profile over anything but a kiln device profile (kiln never destroys a user's file): a folder,
 * or a file that does not load as a profile, stops the command before any measuring. A missing file is fine.
 */
export function checkProfileOutput(path: string): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new UsageError(`--out ${path}: is a folder; give the path of a .json file to write`);
  let why: string | undefined;
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw new ProfileFileError(`${path}: not JSON`);
    }
    validateDeviceProfile(parsed, path);
  } catch (e) {
    why = e instanceof ProfileFileError ? e.message.slice(path.length + 2) : (e as Error).message;
  }
  if (why !== undefined) throw new UsageError(`--out ${path}: refusing to overwrite a file that is not a kiln device profile (${why}); choose another --out or remove it`);
}
