// runtime/sampling.ts: greedy is the artifact's argmax; temperature, top-k and top-p shape the distribution the
// sampler draws from (checked against a plain softmax and by the frequencies of many draws); the same seed gives
// the same draws; bad options fail by name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SamplingError, argmax, candidateDistribution, checkSampling, sampleToken, seededRandom } from '../../runtime/sampling.js';

function softmax(logits: readonly number[], temperature: number): number[] {
  const top = Math.max(...logits);
  const w = logits.map((l) => Math.exp((l - top) / temperature));
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
}

const arbLogits = fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 60 });

describe('sampling', () => {
  it('argmax takes the first of equal maxima and never a NaN', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([Number.NaN, -5, -7])).toBe(1);
    expect(() => argmax([Number.NaN, Number.NaN])).toThrow(SamplingError);
  });

  it('temperature 0 and top-k 1 both give the argmax, whatever the random draw', () => {
    fc.assert(
      fc.property(arbLogits, fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.double({ min: 0.05, max: 5, noNaN: true }), (logits, u, t) => {
        expect(sampleToken(logits, { temperature: 0 }, () => u)).toBe(argmax(logits));
        expect(sampleToken(logits, { temperature: t, topK: 1 }, () => u)).toBe(argmax(logits));
      }),
    );
  });

  it('without cuts the candidates are the softmax of logits / temperature, most likely first', () => {
    fc.assert(
      fc.property(arbLogits, fc.double({ min: 0.05, max: 5, noNaN: true }), (logits, t) => {
        const { tokens, probs } = candidateDistribution(logits, { temperature: t });
        const want = softmax(logits, t);
        expect([...tokens].sort((a, b) => a - b)).toEqual(logits.map((_, i) => i));
        tokens.forEach((tok, i) => expect(probs[i]).toBeCloseTo(want[tok]!, 12));
        for (let i = 1; i < tokens.length; i++) expect(logits[tokens[i]!]!).toBeLessThanOrEqual(logits[tokens[i - 1]!]!);
      }),
    );
  });

  it('top-k keeps the k largest; top-p keeps the smallest prefix reaching p, renormalised', () => {
    fc.assert(
      fc.property(arbLogits, fc.integer({ min: 1, max: 70 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (logits, k, p) => {
        const byK = candidateDistribution(logits, { temperature: 1, topK: k });
        expect(byK.tokens.length).toBe(Math.min(k, logits.length));
        const cutoff = logits[byK.tokens.at(-1)!]!;
        logits.forEach((l, i) => {
          if (l > cutoff) expect(byK.tokens).toContain(i);
        });
        const full = candidateDistribution(logits, { temperature: 1 });
        const byP = candidateDistribution(logits, { temperature: 1, topP: p });
        const n = byP.tokens.length;
        const massBefore = full.probs.slice(0, n - 1).reduce((s, x) => s + x, 0);
        const mass = massBefore + full.probs[n - 1]!;
        expect(byP.tokens).toEqual(full.tokens.slice(0, n));
        expect(mass).toBeGreaterThanOrEqual(Math.min(p, 1) - 1e-12); // reaches p ...
        if (p < 1) expect(massBefore).toBeLessThan(p); // ... and one token fewer would not (at p = 1 the tail may round to 0)
        expect(byP.probs.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
      }),
    );
  });

  it('draws follow the candidate probabilities (20000 draws, every frequency within 5 sigma)', () => {
    const logits = [2, 1, 0.5, 0, -1, -3, 1.5, 0.2];
    const opts = { temperature: 0.8, topK: 6, topP: 0.95 };
    const { tokens, probs } = candidateDistribution(logits, opts);
    const random = seededRandom(12345);
    const draws = 20000;
    const counts = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const t = sampleToken(logits, opts, random);
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    expect([...counts.keys()].every((t) => tokens.includes(t))).toBe(true);
    tokens.forEach((t, i) => {
      const p = probs[i]!;
      const sigma = Math.sqrt(draws * p * (1 - p));
      expect(Math.abs((counts.get(t) ?? 0) - draws * p)).toBeLessThan(5 * sigma + 1);
    });
  });

  it('the same seed gives the same draws; another seed differs', () => {
    const logits = Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const run = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, { temperature: 1.5 }, r));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('masked (-inf) logits are never drawn and keep the order deterministic', () => {
    const logits = [-Infinity, 1, -Infinity, 0.5, -Infinity, 2];
    expect(candidateDistribution(logits, { temperature: 1, topK: 4 }).tokens).toEqual([5, 1, 3, 0]);
    const r = seededRandom(9);
    for (let i = 0; i < 200; i++) expect([1, 3, 5]).toContain(sampleToken(logits, { temperature: 1 }, r));
  });

  it('an infinite logit takes all the mass; NaN logits are never drawn', () => {
    expect(sampleToken([0, Infinity, 3], { temperature: 2 }, () => 0.99)).toBe(1);
    const r = seededRandom(3);
    for (let i = 0; i < 200; i++) expect(sampleToken([Number.NaN, 0, 0, Number.NaN], { temperature: 1 }, r)).toBeGreaterThan(0);
  });

  it('rejects bad options by name', () => {
    expect(() => checkSampling({ temperature: -1 })).toThrow(/temperature/);
    expect(() => checkSampling({ temperature: Number.NaN })).toThrow(/temperature/);
    expect(() => checkSampling({ topK: 1.5 })).toThrow(/topK/);
    expect(() => checkSampling({ topP: 0 })).toThrow(/topP/);
    expect(() => checkSampling({ topP: 1.2 })).toThrow(/topP/);
    expect(() => checkSampling({ seed: -1 })).toThrow(/seed/);
    expect(() => checkSampling({ temperature: 0.7, topK: 40, topP: 0.9, seed: 42 })).not.toThrow();
  });
});
