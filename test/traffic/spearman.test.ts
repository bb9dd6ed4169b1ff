import { describe, expect, it } from 'vitest';
import { ranks, spearman } from '../../compiler/traffic/spearman.js';

describe('spearman', () => {
  it('ranks ties by their mean rank', () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
  it('is 1 for the same order, -1 for the reverse, whatever the scale', () => {
    expect(spearman([1, 2, 3, 4], [10, 200, 3000, 40000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it('matches the textbook value 1 - 6 sum d^2 / (n (n^2 - 1)) without ties', () => {
    const a = [3, 1, 4, 1.5, 5, 9, 2.6];
    const b = [2, 7, 1, 8, 2.8, 1.8, 2.9];
    const [ra, rb] = [ranks(a), ranks(b)];
    const d2 = ra.reduce((s, r, i) => s + (r - rb[i]!) ** 2, 0);
    expect(spearman(a, b)).toBeCloseTo(1 - (6 * d2) / (7 * 48), 12);
  });
  it('is undefined (NaN) for a constant series and refuses series of different lengths', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(/different lengths/);
  });
});
