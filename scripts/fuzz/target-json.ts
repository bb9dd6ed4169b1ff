// json target: compiler/io/json-tensor.ts tensorFromJson, as `kiln run` and `kiln ir run` read --input files:
// with no declared type, and checked against a few declared types (static, symbolic, scalar). Cases are random
// JSON, explicit {"dtype","shape","data"} objects and nested lists that are valid or nearly so, deep nesting,
// then text-level damage.
import fc from 'fast-check';
import { tensorFromJson } from '../../compiler/io/json-tensor.js';
import { ALL_DTYPES, type TensorType, tensorType } from '../../ir/index.js';
import { mutateText } from './mutate.js';
import { isAcceptable } from './protocol.js';
import { EDGE_NUMBERS, type Rng } from './rng.js';
import { type FuzzTarget, text, utf8 } from './targets.js';

/** Random JSON, and explicit-form objects with random shape and data (the json-tensor test's generator too). */
export const arbTensorJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.json({ depthSize: 'medium' }),
  fc.record({ dtype: fc.constantFrom('f32', 'i32', 'bool', 'x'), shape: fc.jsonValue(), data: fc.jsonValue() }).map((o) => JSON.stringify(o)),
);

const DECLARED: readonly (TensorType | undefined)[] = [undefined, tensorType('f32', ['batch', 3]), tensorType('i32', [2, 2]), tensorType('bool', [])];
const VALUES: readonly unknown[] = [...EDGE_NUMBERS, 'NaN', 'Infinity', '-Infinity', true, false, null, 'x', [], {}, [1]];
const TOKENS = ['"dtype"', '"shape"', '"data"', '"f32"', '"i64"', '[', ']', '{', '}', ',', ':', 'null', '1e999', '-0'];

const value = (rng: Rng): unknown => (rng.chance(0.8) ? rng.range(-9, 9) / rng.range(1, 4) : rng.pick(VALUES));

function nested(shape: readonly number[], rng: Rng): unknown {
  if (!shape.length) return value(rng);
  return Array.from({ length: shape[0]! }, () => nested(shape.slice(1), rng));
}

function explicit(rng: Rng): string {
  const shape = Array.from({ length: rng.int(4) }, () => rng.int(4));
  const count = shape.reduce((a, b) => a * b, 1);
  const o: Record<string, unknown> = { dtype: rng.pick([...ALL_DTYPES, 'f64', 'toString', '']), shape, data: Array.from({ length: count }, () => value(rng)) };
  if (rng.chance(0.3)) shape[rng.int(shape.length)] = rng.pick(EDGE_NUMBERS);
  if (rng.chance(0.2)) delete o[rng.pick(['dtype', 'shape', 'data'])];
  if (rng.chance(0.2)) o.data = nested(shape.map((d) => Math.min(d, 3)), rng);
  return JSON.stringify(o);
}

function generate(rng: Rng): string {
  switch (rng.int(5)) {
    case 0:
      return rng.sample(arbTensorJsonText);
    case 1:
      return explicit(rng);
    case 2: {
      const shape = Array.from({ length: rng.int(4) }, () => rng.int(4));
      return JSON.stringify(nested(shape, rng));
    }
    case 3: {
      const depth = rng.pick([31, 32, 33, 1000, 100_000]);
      return '['.repeat(depth) + (rng.chance(0.5) ? '1' : '') + ']'.repeat(rng.chance(0.9) ? depth : rng.int(depth));
    }
    default:
      return mutateText(rng, rng.chance(0.5) ? explicit(rng) : JSON.stringify(nested([2, 2], rng)), TOKENS);
  }
}

export function jsonTarget(): FuzzTarget {
  return {
    corpus: 'generated JSON tensors: random JSON, explicit objects, nested lists, deep nesting, damaged text',
    generate: (rng) => utf8(generate(rng)),
    exercise(input) {
      let accepted = false;
      let refusal: unknown;
      for (const declared of DECLARED) {
        try {
          const t = tensorFromJson(text(input), 'fuzz.json', declared);
          // What an accepted file promises: a shape of sizes and exactly as many values.
          if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || t.data.length !== t.shape.reduce((a, b) => a * b, 1))
            throw new Error(`unsound result: ${t.data.length} values for shape [${t.shape.join(',')}]`);
          accepted = true;
        } catch (e) {
          if (!isAcceptable(e)) throw e;
          refusal = e;
        }
      }
      if (!accepted) throw refusal;
    },
  };
}
