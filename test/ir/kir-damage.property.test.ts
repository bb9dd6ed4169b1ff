// Damaged textual IR (fast-check): a real graph (examples/burn-mnist/graph.kir) with a random span deleted and
// random text inserted either parses and verifies, or fails with one of the IR's own errors (syntax, verify,
// op), each of which names the file; never a TypeError, RangeError or hang.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { parseKir, verify } from '../../ir/index.js';
import { formatDiagnostic } from '../../ir/verify.js';
import { arbKirDamage } from '../../scripts/fuzz/target-kir.js';

const TEXT = readFileSync(new URL('../../examples/burn-mnist/graph.kir', import.meta.url), 'utf8');
const IR_ERRORS = ['KirSyntaxError', 'VerifyError', 'OpError'];

it('a damaged .kir file parses or fails with a named IR error', () => {
  fc.assert(
    fc.property(arbKirDamage(TEXT), ({ text, at }) => {
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

// Found by `npm run fuzz` (kir): a file cut before its `graph` line but after a blank line sent the syntax
// error's position search into an endless loop instead of an error.
it('reports a file that starts with a blank line and lacks its graph header', () => {
  expect(() => parseKir('\n  %y = Relu(%x : f32[4]\n  return %y\n}\n', 'cut.kir')).toThrow(/^cut\.kir:1:1: expected "graph"/);
});
