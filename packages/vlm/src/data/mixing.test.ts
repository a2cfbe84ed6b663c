import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@synth2/core';
import { resolveMix, splitBatch } from './mixing';

describe('resolveMix', () => {
  it('should default to real only without synthetic data and half/half with it', () => {
    expect(resolveMix(undefined, { real: 10, synthetic: 0 })).toEqual({ real: 1, synthetic: 0 });
    expect(resolveMix(undefined, { real: 10, synthetic: 5 })).toEqual({ real: 0.5, synthetic: 0.5 });
    expect(resolveMix({ real: 0, synthetic: 1 }, { real: 0, synthetic: 5 })).toEqual({ real: 0, synthetic: 1 });
  });

  it('should reject ratios that do not sum to 1 or are negative', () => {
    expect(() => resolveMix({ real: 0.5, synthetic: 0.6 }, { real: 1, synthetic: 1 })).toThrow(InvalidInputError);
    expect(() => resolveMix({ real: 0.5, synthetic: 0.6 }, { real: 1, synthetic: 1 })).toThrow(/must be 1 .* got 0.5 \+ 0.6 = 1.1/);
    expect(() => resolveMix({ real: -0.5, synthetic: 1.5 }, { real: 1, synthetic: 1 })).toThrow(/mix.real must be a number from 0 to 1/);
  });

  it('should reject a share for a source without data', () => {
    expect(() => resolveMix({ real: 0.5, synthetic: 0.5 }, { real: 3, synthetic: 0 })).toThrow(/no synthetic pairs/);
    expect(() => resolveMix({ real: 1, synthetic: 0 }, { real: 0, synthetic: 3 })).toThrow(/no real pairs/);
  });
});

describe('splitBatch', () => {
  it('should split a batch by the ratio and keep both sources present', () => {
    expect(splitBatch(64, { real: 0.5, synthetic: 0.5 })).toEqual({ real: 32, synthetic: 32 });
    expect(splitBatch(10, { real: 0.99, synthetic: 0.01 })).toEqual({ real: 9, synthetic: 1 });
    expect(splitBatch(8, { real: 1, synthetic: 0 })).toEqual({ real: 8, synthetic: 0 });
  });
});
