// Errors of the safetensors layer. Every failure (a malformed file, a broken shard index, a param that does not
// match its tensor) is a SafetensorsError whose message says which file (and tensor or param) is at fault, what
// is wrong and what to do, so a CLI prints it as is. `file` and `tensor` repeat those for tools and tests.

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  readonly file: string | undefined;
  readonly tensor: string | undefined;
  constructor(message: string, details: { file?: string; tensor?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = details.file;
    this.tensor = details.tensor;
  }
}

/** A problem with one file (or one tensor in it): the message starts with the file, then the tensor. */
export function fileError(file: string, message: string, tensor?: string, cause?: unknown): SafetensorsError {
  const where = tensor === undefined ? file : `${file}: tensor '${tensor}'`;
  return new SafetensorsError(`${where}: ${message}`, { file, ...(tensor !== undefined ? { tensor } : {}), cause });
}

/** The message of an operating-system error (ENOENT, EACCES, EISDIR) without Node's stack noise. */
export function osReason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code ? `${code} (${e.message})` : e.message;
  }
  return String(e);
}
