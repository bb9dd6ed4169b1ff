import { isSystemErrorCode } from '../io/fs-errors.js';

// Which errors are the user's to fix (printed as a message, exit 1) and which are kiln's bugs (stack, exit 2).
const USER_ERRORS = new Set([
  'KirSyntaxError',
  'VerifyError',
  'PassError',
  'InputError',
  'InterpError',
  'OpError',
  'UsageError',
  'CommanderError',
  'LoweringError',
  'ArtifactError',
  'InputValidationError',
  'DeviceError',
  'OnnxImportError',
  'SymbolBindingError',
  'OnnxUnsupportedError',
  'SafetensorsError',
  'ExternalDataError',
  'HfImportError',
  'GenerationError',
  'SamplingError',
  'TokenizerError',
  'SparsifyError',
  'PassOptionError',
  'OversizedWeightError',
  'FileSystemError',
  'OutputFolderError',
  'DeviceLostError',
  'LimitError',
]);

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A user's error: one of kiln's typed errors, or the system's about a path (permissions, space, a missing file). */
export function isUserError(e: unknown): e is Error {
  return e instanceof Error && (USER_ERRORS.has(e.name) || isSystemErrorCode((e as NodeJS.ErrnoException).code));
}
