// compiler/io/json-tensor.ts: the two JSON input forms read back what tensorToJson writes (non-finite values
// included); bad shapes, dtypes, ragged or absurdly deep lists fail with an InputError naming the file; random
// JSON never fails any other way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError, tensorFromJson, tensorToJson } from '../../compiler/io/json-tensor.js';
import { makeTensor, tensorType } from '../../ir/index.js';
import { arbTensorJsonText } from '../../scripts/fuzz/target-json.js';

describe('JSON tensors', () => {
  it('round-trip through tensorToJson, NaN and infinities included', () => {
    const t = makeTensor('f32', [2, 2], [1, Number.NaN, Infinity, -Infinity]);
    expect(tensorFromJson(JSON.stringify(tensorToJson(t)), 't.json')).toEqual(t);
  });

  it('take nested lists with the declared dtype, symbolic dims matching any size', () => {
    expect(tensorFromJson('[[1, 2, 3], [4, 5, 6]]', 'n.json', tensorType('i32', ['batch', 3]))).toEqual(makeTensor('i32', [2, 3], [1, 2, 3, 4, 5, 6]));
  });

  it('name the file and the problem', () => {
    const bad = (text: string, message: string) => expect(() => tensorFromJson(text, 'in.json', tensorType('f32', [2]))).toThrow(`in.json: ${message}`);
    bad('{"dtype": "f32", "shape": [-1, -2], "data": [1, 2]}', '"shape" must be a list of at most 32 non-negative integers, got [-1,-2]');
    bad('{"dtype": "f32", "shape": [0.5], "data": [1]}', '"shape" must be a list');
    bad('{"dtype": "toString", "data": [1, 2]}', "unknown dtype 'toString'");
    bad('[[1, 2], [3]]', 'ragged nested list');
    bad(`${'['.repeat(40)}1${']'.repeat(40)}`, 'lists nested deeper than 32 levels');
    bad('{"dtype": "f32", "data": [1, "x"]}', '"x" is not a number');
    bad('[1, 2', 'not valid JSON');
  });

  it('fail only with InputError on random JSON', () => {
    fc.assert(
      fc.property(arbTensorJsonText, (text) => {
        try {
          tensorFromJson(text, 'r.json');
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
