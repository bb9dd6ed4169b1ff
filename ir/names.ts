// How a value or graph name is written in .kir: bare when it matches [A-Za-z0-9_.$-]+, otherwise JSON-quoted.
// Its own module because both the printer and the encodings (whose parameters name values) write names.
const BARE_NAME = /^[A-Za-z0-9_.$-]+$/;

/** A value or graph name as written after `%` or `@`. */
export function formatName(name: string): string {
  return BARE_NAME.test(name) ? name : JSON.stringify(name);
}
