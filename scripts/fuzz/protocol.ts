// What the campaign (parent) and the child that runs the cases say to each other, the case file they share, and
// how an exception is classified.
import { isUserError } from '../../compiler/cli/errors.js';

/** A batch ends once it has run this long, so the parent hears back at least this often unless one case is slow. */
export const BATCH_MS = 100;
/** The case file: index, accepted and typed-error counts of the batch so far (float64 each), then the case. */
export const CASE_HEADER = 24;

export type ToChild =
  | { readonly type: 'load'; readonly target: string }
  | { readonly type: 'batch'; readonly target: string; readonly from: number; readonly max: number };
export type Thrown = { readonly index: number; readonly input: Uint8Array; readonly message: string };
export type FromChild =
  | { readonly type: 'ready'; readonly corpus: string }
  | { readonly type: 'done'; readonly ran: number; readonly accepted: number; readonly typed: number; readonly thrown?: Thrown }
  | { readonly type: 'fatal'; readonly message: string };

/** The stack of what was thrown (with its message), for the crash report. */
export function describeThrown(e: unknown): string {
  if (!(e instanceof Error)) return `a non-Error value was thrown: ${String(e)}`;
  const own = e.stack?.includes(e.message) ? e.stack : `${e.name}: ${e.message}\n${e.stack ?? ''}`;
  // A wrapped error's own stack is where it was caught; the cause's is where it happened.
  return e.cause instanceof Error ? `${own}\ncaused by: ${describeThrown(e.cause)}` : own;
}

/**
 * Whether a thrown value is an acceptable outcome: a typed user error, as the CLI classifies it (isUserError),
 * except one that says it wraps kiln's own bug. The ONNX importer turns any unexpected exception inside a rule
 * into an OnnxImportError "<file>: <node>: internal error: TypeError: ..." so the CLI names the node; to the
 * fuzzer that is the TypeError it wraps, a crash.
 */
export function isAcceptable(e: unknown): e is Error {
  return isUserError(e) && !/: internal error: /.test(e.message);
}
