import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors';
import { unknownOptionError } from '../internal/strict-options';
import { expectUnknownOptionRejected } from './unknown-option';

const expected = { where: 'f', key: 'stepz', suggestion: 'steps' };
const rejectStepz = () => {
  throw unknownOptionError('stepz', ['steps', 'seed'], 'f');
};

describe('expectUnknownOptionRejected', () => {
  it('should pass on the rejection it describes, thrown or as a rejected promise', async () => {
    const error = await expectUnknownOptionRejected(rejectStepz, expected);
    expect(error.setting).toBe('stepz');
    await expectUnknownOptionRejected(async () => rejectStepz(), expected);
  });

  it('should fail when the call succeeds, throws something else or names another key or suggestion', async () => {
    await expect(expectUnknownOptionRejected(() => 1, expected)).rejects.toThrow(/should throw a ConfigurationError/);
    await expect(
      expectUnknownOptionRejected(() => {
        throw new ConfigurationError('f: bad');
      }, expected),
    ).rejects.toThrow(/unexpected message/);
    await expect(expectUnknownOptionRejected(rejectStepz, { ...expected, key: 'step' })).rejects.toThrow(/unexpected message/);
    await expect(expectUnknownOptionRejected(rejectStepz, { ...expected, suggestion: 'seed' })).rejects.toThrow(
      /unexpected message/,
    );
  });
});
