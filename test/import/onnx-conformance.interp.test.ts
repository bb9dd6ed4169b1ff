// The ONNX backend node tests through import and the reference interpreter: shared/onnx-node-tests (653 core
// cases) and shared/onnx-node-tests-extended (the other 1,143 of the same ONNX commit). Every case must either
// pass (outputs within rtol 1e-3, atol 1e-7, compared by value so narrowed int64/double outputs count) or fail at
// import with an OnnxUnsupportedError in one line naming node and op; a wrong value, a crash or any other error
// fails its test. The summary line gives the counts and the unsupported reasons, and each set's pass count has a
// floor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { type CaseResult, runCase } from '../../scripts/lib/onnx-conformance.js';

/** Measured pass counts (some with shape-like graph inputs fixed to their test values). */
const SETS = [
  { dir: 'onnx-node-tests', floor: 598 },
  { dir: 'onnx-node-tests-extended', floor: 983 },
] as const;

interface Manifest {
  readonly cases: readonly { readonly name: string; readonly op: string }[];
}

function suite(dir: string, floor: number): void {
  const root = haveShared() ? join(sharedDir()!, dir) : '';
  const cases = root ? (JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest).cases : [];

  describe.runIf(haveShared())(`ONNX node tests (${dir}) through the interpreter`, () => {
    const results: CaseResult[] = [];

    for (const c of cases)
      it(c.name, async () => {
        const r = await runCase(join(root, 'node', c.name), c.name);
        results.push(r);
        if (r.status === 'fail') expect.fail(r.message);
        // A refusal is one line naming the node and its op (a graph input kiln cannot take: the node reading it, or
        // that none does).
        if (r.status === 'unsupported') {
          expect(r.message!.split('\n')).toHaveLength(1);
          expect(r.message).toMatch(/node (?:'[^']*' )?\([A-Za-z0-9]+, opset \d+|no node reads it/);
        }
      });

    it('passes at least the measured number of cases', () => {
      const pass = results.filter((r) => r.status === 'pass');
      const unsupported = results.filter((r) => r.status === 'unsupported');
      const fail = results.length - pass.length - unsupported.length;
      const fixed = pass.filter((r) => r.frozen?.length).length;
      const reasons = new Map<string, number>();
      for (const r of unsupported) reasons.set(r.category!, (reasons.get(r.category!) ?? 0) + 1);
      const byReason = [...reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(
        `ONNX conformance ${dir} (interpreter): ${pass.length} pass (${fixed} with shape inputs fixed), ` +
          `${unsupported.length} unsupported (${byReason}), ${fail} fail, of ${results.length}`,
      );
      expect(results).toHaveLength(cases.length);
      expect(pass.length).toBeGreaterThanOrEqual(floor);
    });

    afterAll(() => {
      if (process.env.KILN_CONFORMANCE_DETAILS === '1')
        for (const r of results) if (r.status !== 'pass') console.log(`${r.status} ${r.name}: ${r.message}`);
    });
  });
}

for (const { dir, floor } of SETS) suite(dir, floor);
