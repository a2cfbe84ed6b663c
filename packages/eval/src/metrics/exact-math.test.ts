import { describe, expect, it } from 'vitest';
import { correctlyRoundedExp, correctlyRoundedPow } from './exact-math';

describe('correctlyRoundedPow', () => {
  it('should equal the (correctly rounded) square root for exponent 1/2', () => {
    let x = 0.7;
    for (let i = 0; i < 2000; i++) {
      x = (x * 9301 + 49297) % 233280.123;
      const b = (x / 233280) * 10 ** -((i % 30) - 5);
      expect(correctlyRoundedPow(b, 0.5)).toBe(Math.sqrt(b));
    }
  });
  it('should be exact on perfect powers', () => {
    expect(correctlyRoundedPow(0.125, 1 / 3)).toBe(0.5);
    expect(correctlyRoundedPow(0.0625, 0.25)).toBe(0.5);
    expect(correctlyRoundedPow(1, 0.3)).toBe(1);
  });
});

describe('correctlyRoundedExp', () => {
  it('should be exact at 0 and close to Math.exp elsewhere', () => {
    expect(correctlyRoundedExp(0)).toBe(1);
    for (const x of [-700, -20, -1, -1e-10, 1e-10, 0.5, 1, 3, 700]) {
      const got = correctlyRoundedExp(x);
      expect(Math.abs(got - Math.exp(x)) / Math.exp(x)).toBeLessThanOrEqual(2.3e-16);
    }
    expect(correctlyRoundedExp(1)).toBe(Math.E);
  });
});
