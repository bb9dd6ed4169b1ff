// Damaged textual IR (fast-check): a real graph (examples/burn-mnist/graph.kir) with a random span deleted and
// random text inserted either parses and verifies, or fails with one of the IR's own errors (syntax, verify,
// op), each of which names the file; never a TypeError, RangeError or hang.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseKir, verify } from '../../ir/index.js';
import { formatDiagnostic } from '../../ir/verify.js';

const TEXT = readFileSync(new URL('../../examples/burn-mnist/graph.kir', import.meta.url), 'utf8');
const IR_ERRORS = ['KirSyntaxError', 'VerifyError', 'OpError'];

it('a damaged .kir file parses or fails with a named IR error', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: TEXT.length - 1 }), fc.integer({ min: 0, max: 30 }), fc.string({ maxLength: 6 }), (at, cut, inserted) => {
      const text = TEXT.slice(0, at) + inserted + TEXT.slice(at + cut);
      try {
        // Verify problems come back as diagnostics; each must point into the file.
        for (const d of verify(parseKir(text, 'damaged.kir'))) expect(formatDiagnostic(d)).toMatch(/^damaged\.kir:\d+:\d+: /);
      } catch (e) {
        const err = e as Error;
        if (err.name === 'AssertionError') throw err;
        expect(IR_ERRORS, `${err.name} at ${JSON.stringify(text.slice(Math.max(0, at - 30), at + 30))}: ${err.stack}`).toContain(err.name);
        expect(err.message).toContain('damaged.kir');
      }
    }),
    { numRuns: 300 },
  );
}, 60_000);
