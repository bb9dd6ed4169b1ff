// kir target: the textual IR through what `kiln ir run` and `kiln compile g.kir` do: parse, verify (each
// diagnostic formatted), the default pass pipeline, the reference interpreter on deterministic inputs, and the
// compiler. Cases are real .kir files (examples/, the CLI fixtures, the manifest tests' graph) and printed random
// graphs (valid typed graphs from arbGraphCase, structurally valid but meaningless ones from arbKirGraph), damaged
// by span edits, IR tokens (op names, dtypes, keywords) and edge-case numbers typed in.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { compileGraph } from '../../compiler/compile.js';
import { ALL_DTYPES, type Graph, type Tensor, assertValid, bindSymbols, dtypeInfo, formatDiagnostic, interpret, intRange, makeTensor, parseKir, printGraph, registeredOps, verify } from '../../ir/index.js';
import { DEFAULT_PIPELINE, runPipeline } from '../../passes/index.js';
import { seededRandom } from '../../runtime/random.js';
import { arbGraphCase, arbKirGraph } from '../lib/arbitraries.js';
import { SMALL_KIR } from '../lib/manifest-mutations.js';
import { mutateText } from './mutate.js';
import type { Rng } from './rng.js';
import { type FuzzTarget, text, utf8 } from './targets.js';

/** A span of `source` replaced by a short random string (the kir-damage property test's generator too). */
export const arbKirDamage = (source: string): fc.Arbitrary<{ text: string; at: number }> =>
  fc
    .tuple(fc.integer({ min: 0, max: source.length - 1 }), fc.integer({ min: 0, max: 30 }), fc.string({ maxLength: 6 }))
    .map(([at, cut, inserted]) => ({ at, text: source.slice(0, at) + inserted + source.slice(at + cut) }));

const KEYWORDS = ['graph', 'const', 'param', 'symbol', 'in', 'return', '%', '@', ':', '=', '{', '}', '[', ']', '(', ')', ',', '..', '"', 'layout', 'encoding', 'inf', 'nan', '-inf'];

/** Interpretation is the harness's choice (a user supplies the inputs): inputs beyond this are not made up. */
const MAX_INPUT_ELEMENTS = 1 << 16;

/** Inputs as `kiln ir run --random` makes them: symbolic dims at their minimum, values from a fixed seed. */
function randomInputs(g: Graph): Record<string, Tensor> | undefined {
  const out: Record<string, Tensor> = {};
  for (const [k, decl] of g.inputs.entries()) {
    const shape = decl.type.shape.map((d) => (typeof d === 'number' ? d : g.symbols[d]?.min ?? 1));
    if (shape.reduce((a, b) => a * b, 1) > MAX_INPUT_ELEMENTS) return undefined;
    const next = seededRandom(k + 1);
    const float = dtypeInfo(decl.type.dtype).kind === 'float';
    // Integers in -8..8, clipped to the dtype's range (0..8 for unsigned, 0..1 for bool).
    const [min, max] = float ? [0, 0] : intRange(decl.type.dtype);
    const lo = Math.max(min, -8);
    const span = Math.min(max, 8) - lo + 1;
    out[decl.name] = makeTensor(decl.type.dtype, shape, () => (float ? next() * 2 - 1 : lo + Math.floor(next() * span)));
  }
  return out;
}

export function kirTarget(): FuzzTarget {
  const files = [new URL('../../examples/mlp.kir', import.meta.url), new URL('../../examples/burn-mnist/graph.kir', import.meta.url)];
  const fixtures = new URL('../../test/cli/fixtures/', import.meta.url);
  for (const f of readdirSync(fixtures)) if (f.endsWith('.kir')) files.push(new URL(f, fixtures));
  const real = [...files.map((f) => readFileSync(f, 'utf8')), SMALL_KIR];
  const tokens = [...KEYWORDS, ...registeredOps(), ...ALL_DTYPES];
  const arbValid = arbGraphCase({ maxSteps: 6 });

  const source = (rng: Rng): string => {
    const k = rng.int(10);
    if (k < 4) return rng.pick(real);
    if (k < 8) return printGraph(rng.sample(arbValid).graph);
    return printGraph(rng.sample(arbKirGraph()));
  };
  return {
    corpus: `${files.length} real .kir files and the manifest tests' graph, printed arbGraphCase and arbKirGraph graphs`,
    generate(rng) {
      const s = source(rng);
      const k = rng.int(10);
      if (k < 2) return utf8(s);
      if (k < 4) return utf8(rng.sample(arbKirDamage(s.length ? s : ' ')).text);
      return utf8(mutateText(rng, s, tokens));
    },
    exercise(input) {
      const g = parseKir(text(input), 'fuzz.kir');
      for (const d of verify(g)) formatDiagnostic(d);
      assertValid(g);
      const optimised = runPipeline(g, DEFAULT_PIPELINE).graph;
      const hasParams = g.constants.some((c) => c.value === undefined && c.external === undefined);
      const inputs = hasParams ? undefined : randomInputs(g);
      if (inputs) {
        interpret(g, inputs);
        interpret(optimised, inputs);
      }
      // As `kiln compile g.kir --dim s=<min>` for each symbol.
      if (!hasParams) compileGraph(bindSymbols(g, Object.fromEntries(Object.entries(g.symbols).map(([k, b]) => [k, b.min]))));
    },
  };
}
