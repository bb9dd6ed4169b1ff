// selftest-crash (hidden): proves the runner's crash detection, for test/fuzz/fuzz.test.ts. Its cases cycle
// through an accepted input, a typed user error, a TypeError, a process.exit, an abort (death by a signal) and a
// hang; the last four must each be reported as a crash with the input saved, the first two must not.
import { UsageError } from '../../compiler/cli/errors.js';
import { type FuzzTarget, text, utf8 } from './targets.js';

export const SELFTEST_KINDS = ['accept', 'typed', 'throw', 'exit', 'abort', 'hang'] as const;

export function selftestTarget(): FuzzTarget {
  return {
    corpus: `cases cycling through ${SELFTEST_KINDS.join(', ')}`,
    generate: (rng, index) => utf8(`${SELFTEST_KINDS[index % SELFTEST_KINDS.length]} ${rng.int(1e9)}\n`),
    exercise(input) {
      const kind = text(input).split(' ')[0];
      if (kind === 'typed') throw new UsageError('selftest: a typed user error');
      if (kind === 'throw') (undefined as unknown as { x: number }).x;
      if (kind === 'hang') for (;;);
      if (kind === 'exit') process.exit(3);
      if (kind === 'abort') process.abort(); // dies by a signal, as a native crash or an out-of-memory abort does
    },
  };
}
