// fast-check's seed for a whole test run. By default every run draws new cases (a failure prints its seed and path
// to replay it). When KILN_FC_SEED is set, every property starts from that seed instead, so a run is repeatable:
// .ci/run sets it, and a submission lands on the cases it was tested with. New cases are still explored by every
// local `npm test` and by `npm run fuzz`. A property that passes its own `seed` keeps it.
import fc from 'fast-check';

const seed = process.env.KILN_FC_SEED;
if (seed !== undefined && seed !== '') {
  const n = Number(seed);
  if (!Number.isSafeInteger(n)) throw new Error(`KILN_FC_SEED must be an integer, got '${seed}'`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: n });
}
