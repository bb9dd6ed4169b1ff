// The process that runs cases (forked by host.ts): it loads targets on request (each once; a later campaign over
// the same target reuses it) and runs batches of cases the parent asks for. A batch stops after BATCH_MS so the
// parent hears back often, which is how it tells a hang from a slow batch. Before each case the child writes it
// to the case file (its index, the batch's counts so far, then the bytes): when the child hangs or dies
// mid-case, the parent reads the culprit from there. A case that throws anything but a typed user error
// (isAcceptable) ends the batch at once, so the report of a batch accounts for every case in it.
import { ftruncateSync, openSync, writeSync } from 'node:fs';
import { BATCH_MS, CASE_HEADER, type FromChild, type ToChild, describeThrown, isAcceptable } from './protocol.js';
import { caseRng } from './rng.js';
import { type FuzzTarget, TARGETS } from './targets.js';

const send = (m: FromChild): void => void process.send!(m);

const [seedText, caseFile] = process.argv.slice(2);
const seed = Number(seedText);
if (!caseFile || !Number.isInteger(seed)) throw new Error(`usage: child.ts <seed> <case file> (got ${process.argv.slice(2).join(' ')})`);
const fd = openSync(caseFile, 'w');
const header = new Float64Array(3);
const loaded = new Map<string, FuzzTarget>();

function runBatch(name: string, t: FuzzTarget, from: number, max: number): void {
  const start = performance.now();
  let accepted = 0;
  let typed = 0;
  for (let i = from; i < from + max; ) {
    let input: Uint8Array;
    try {
      input = t.generate(caseRng(seed, name, i), i);
    } catch (e) {
      // A generator failing is the fuzzer's own bug, not the target's: stop the campaign loudly.
      return send({ type: 'fatal', message: `generating ${name} case ${i} failed: ${describeThrown(e)}` });
    }
    header.set([i, accepted, typed]);
    ftruncateSync(fd, CASE_HEADER + input.length);
    writeSync(fd, new Uint8Array(header.buffer), 0, CASE_HEADER, 0);
    writeSync(fd, input, 0, input.length, CASE_HEADER);
    try {
      t.exercise(input);
      accepted++;
    } catch (e) {
      if (!isAcceptable(e)) return send({ type: 'done', ran: i - from + 1, accepted, typed, thrown: { index: i, input, message: describeThrown(e) } });
      typed++;
    }
    i++;
    if (i === from + max || performance.now() - start >= BATCH_MS) return send({ type: 'done', ran: i - from, accepted, typed });
  }
}

async function load(name: string): Promise<void> {
  try {
    const entry = Object.hasOwn(TARGETS, name) ? TARGETS[name]! : undefined;
    if (!entry) throw new Error(`unknown target '${name}'`);
    if (!loaded.has(name)) loaded.set(name, await entry.load());
    send({ type: 'ready', corpus: loaded.get(name)!.corpus });
  } catch (e) {
    send({ type: 'fatal', message: `setting up target ${name} failed: ${describeThrown(e)}` });
  }
}

process.on('message', (m: ToChild) => {
  if (m.type === 'load') void load(m.target);
  else {
    const t = loaded.get(m.target);
    if (t) runBatch(m.target, t, m.from, m.max);
    else send({ type: 'fatal', message: `batch for target ${m.target}, which is not loaded` });
  }
});
