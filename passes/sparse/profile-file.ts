// The device-profile file (`kiln tune` writes it, `kiln compile --device-profile file.json` reads it): a JSON object
// of the DeviceProfile fields (cost-model.ts), an optional `tuning` object of measured kernel choices, and an
// optional format tag. Reading the file is the CLI's (passes/ stays browser-safe); this module only checks the parsed
// value, strictly: a wrong type, a value out of range or an unknown field (a typo would otherwise be ignored, and the
// compile silently untuned) is refused with one line naming the file and the field.
import { PANEL_CANDIDATES } from '../layout/cost.js';
import type { DeviceProfile, KernelTuning } from './cost-model.js';

/** The `format` value kiln writes, so a profile is recognisable as kiln's (kiln tune overwrites only those). */
export const DEVICE_PROFILE_FORMAT = 'kiln-device-profile';

/** Allowed tuning values, shared with kiln tune so it only ever measures (and writes) what loads back. */
export const GEMV_PANELS: readonly number[] = [0, ...PANEL_CANDIDATES];
export const GEMV_UNROLLS: readonly (4 | 8)[] = [4, 8];

export class ProfileFileError extends Error {
  override name = 'ProfileFileError';
}

type Check = (v: unknown) => string | undefined;

const positive: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a positive number');
const nonNegative: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a non-negative number');
const positiveInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
const text: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const name: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'must be a non-empty string');
const oneOf =
  (allowed: readonly unknown[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;

/**
 * Every field of the file: its check and whether it must be there. Keyed by DeviceProfile's own fields, so a field
 * added there without a check here does not type-check (and could not be read back from a file).
 */
const FIELDS: Readonly<Record<keyof DeviceProfile | 'format', readonly [Check, boolean]>> = {
  format: [oneOf([DEVICE_PROFILE_FORMAT]), false],
  name: [name, true],
  source: [text, true],
  bytesPerMs: [positive, true],
  denseMacsPerMs: [positive, true],
  directMacsPerMs: [positive, true],
  scatterMacsPerMs: [positive, true],
  dispatchMs: [nonNegative, true],
  writeBytesPerMs: [positive, false],
  transactionBytes: [positiveInt, false],
  launchMs: [nonNegative, false],
  flopsPerMs: [positive, false],
  panelFlopsPerMs: [positive, false],
  barrierMs: [nonNegative, false],
  tuning: [() => undefined, false], // checked field by field below
};

const TUNING: Readonly<Record<keyof KernelTuning, Check>> = {
  gemvPanel: oneOf(GEMV_PANELS),
  gemvUnroll: oneOf(GEMV_UNROLLS),
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const shown = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** Check each field of `obj` against `checks`; the first problem throws, naming `file` and the field's path. */
function checkFields(obj: Record<string, unknown>, checks: Readonly<Record<string, Check>>, required: ReadonlySet<string>, file: string, prefix: string): void {
  for (const key of Object.keys(obj))
    if (!(key in checks)) throw new ProfileFileError(`${file}: unknown field '${prefix}${key}' (known: ${Object.keys(checks).join(', ')})`);
  for (const [key, check] of Object.entries(checks)) {
    if (!(key in obj)) {
      if (required.has(key)) throw new ProfileFileError(`${file}: missing field '${prefix}${key}'`);
      continue;
    }
    const problem = check(obj[key]);
    if (problem) throw new ProfileFileError(`${file}: field '${prefix}${key}' ${problem} (got ${shown(obj[key])})`);
  }
}

/** The DeviceProfile a parsed profile file holds; throws ProfileFileError (one line) for anything amiss. */
export function validateDeviceProfile(value: unknown, file: string): DeviceProfile {
  if (!isObject(value)) throw new ProfileFileError(`${file}: a device profile is a JSON object (got ${Array.isArray(value) ? 'an array' : shown(value)})`);
  const checks = Object.fromEntries(Object.entries(FIELDS).map(([k, [c]]) => [k, c]));
  checkFields(value, checks, new Set(Object.entries(FIELDS).filter(([, [, required]]) => required).map(([k]) => k)), file, '');
  if ('tuning' in value) {
    if (!isObject(value.tuning)) throw new ProfileFileError(`${file}: field 'tuning' must be an object (got ${shown(value.tuning)})`);
    checkFields(value.tuning, TUNING, new Set(), file, 'tuning.');
  }
  const { format: _format, ...profile } = value;
  return profile as unknown as DeviceProfile;
}
