// Typed access to the keys of a config.json. Hugging Face configs are loose JSON written by Python, so every
// read checks the value's kind and range and fails with the file, the key and what was found, rather than
// letting a string or a float slip into a shape.
import { hfError } from './errors.js';

type Json = unknown;

export class ConfigReader {
  constructor(
    /** The config file, for messages. */
    readonly file: string,
    private readonly json: Readonly<Record<string, Json>>,
    /** What the keys are read for ("a llama config"), for messages about missing keys. */
    private readonly what: string,
  ) {}

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  /** The raw value (undefined when absent or null). */
  raw(key: string): Json {
    return this.has(key) ? this.json[key] : undefined;
  }

  private need(key: string): Json {
    if (!this.has(key)) hfError(this.file, `missing key '${key}' (needed by ${this.what})`);
    return this.json[key];
  }

  private bad(key: string, wanted: string, got: Json): never {
    return hfError(this.file, `key '${key}' must be ${wanted}, got ${JSON.stringify(got)}`);
  }

  /** A positive integer; `fallback` when absent (required when no fallback is given). */
  positiveInt(key: string, fallback?: number): number {
    const v = fallback !== undefined && !this.has(key) ? fallback : this.need(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.bad(key, 'a positive integer', v);
    return v as number;
  }

  /** A non-negative integer or absent. */
  optionalNonNegativeInt(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.bad(key, 'a non-negative integer', v);
    return v as number;
  }

  /** A finite number > 0. */
  positiveNumber(key: string, fallback?: number): number {
    const v = fallback !== undefined && !this.has(key) ? fallback : this.need(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) this.bad(key, 'a positive number', v);
    return v as number;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'boolean') this.bad(key, 'true or false', v);
    return v as boolean;
  }

  /** A string from `allowed`; `fallback` when absent. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const v = fallback !== undefined && !this.has(key) ? fallback : this.need(key);
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.bad(key, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
    return v as T;
  }

  /** The first token id of an id or a list of ids (eos_token_id may be either), or undefined when absent. */
  firstTokenId(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.json[key];
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 0) this.bad(key, 'a token id or a list of token ids', v);
    return first as number;
  }

  /** Fail when the key is present and not null: a feature kiln does not implement. */
  rejectPresent(key: string, why: string): void {
    if (this.has(key)) hfError(this.file, `unsupported: '${key}' is ${JSON.stringify(this.json[key])}; ${why}`);
  }

  fail(message: string): never {
    return hfError(this.file, message);
  }
}
