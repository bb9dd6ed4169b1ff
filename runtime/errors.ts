// WebGPU reports validation, out-of-memory and internal errors asynchronously. withErrorScopes runs work inside
// all three scopes and throws the first error as an exception, so a broken kernel fails loudly instead of
// silently computing garbage.

export type GpuErrorKind = 'validation' | 'out-of-memory' | 'internal';

export class GpuError extends Error {
  override name = 'GPUValidationError';
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
    readonly context?: string,
  ) {
    super(`${context ? `${context}: ` : ''}WebGPU ${kind} error: ${message}`);
    if (kind !== 'validation') this.name = kind === 'out-of-memory' ? 'GPUOutOfMemoryError' : 'GPUInternalError';
  }
}

const SCOPES: readonly GpuErrorKind[] = ['validation', 'out-of-memory', 'internal'];

/** Run `work` (sync or async) inside error scopes on `device`; throws GpuError if any scope caught an error. */
export async function withErrorScopes<T>(device: GPUDevice, work: () => T | Promise<T>, context?: string): Promise<T> {
  for (const s of SCOPES) device.pushErrorScope(s);
  let result: T | undefined;
  let thrown: unknown;
  let threw = false;
  try {
    result = await work();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  // Pop in reverse push order; all must be popped even when work threw.
  const errors: (GPUError | null)[] = [];
  for (let i = SCOPES.length - 1; i >= 0; i--) errors[i] = await device.popErrorScope();
  if (threw) throw thrown;
  const k = errors.findIndex((e) => e !== null);
  if (k >= 0) throw new GpuError(SCOPES[k]!, errors[k]!.message, context);
  return result as T;
}

/** Compile a shader module and report its compilation messages (errors and warnings) as text lines. */
export async function shaderMessages(module: GPUShaderModule): Promise<string[]> {
  const info = await module.getCompilationInfo();
  return info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos}: ${m.message}`);
}

/** Inputs that do not fit the model: a wrong name, dtype or size, or a symbolic dim outside the compiled range. */
export class InputValidationError extends Error {
  override name = 'InputValidationError';
}
