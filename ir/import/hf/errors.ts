// Errors of the Hugging Face importer. Every message starts with the file it is about (config.json or the
// checkpoint), so a CLI can print it as is and a user knows which file to fix.

export class HfImportError extends Error {
  override name = 'HfImportError';
}

/** Throw an HfImportError about `file`. */
export const hfError = (file: string, message: string): never => {
  throw new HfImportError(`${file}: ${message}`);
};
