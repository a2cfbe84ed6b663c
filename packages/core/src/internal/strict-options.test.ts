import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '../errors';
import {
  editDistance,
  nearestKey,
  optionKeys,
  parseStrictOptions,
  rejectUnknownOptions,
  schemaKeys,
  schemaKeysAt,
  unknownOptionError,
} from './strict-options';

function thrown(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(ConfigurationError.isInstance(error)).toBe(true);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError, nothing was thrown');
}

describe('editDistance', () => {
  it('should count insertions, deletions, substitutions and neighbour swaps as one edit each', () => {
    expect(editDistance('steps', 'steps')).toBe(0);
    expect(editDistance('stepz', 'steps')).toBe(1);
    expect(editDistance('concurency', 'concurrency')).toBe(1);
    expect(editDistance('tempreature', 'temperature')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('nearestKey', () => {
  it('should pick the closest known key, ignoring case', () => {
    expect(nearestKey('stepz', ['batchSize', 'steps', 'seed'])).toBe('steps');
    expect(nearestKey('batchsize', ['batchSize', 'steps'])).toBe('batchSize');
    expect(nearestKey('signl', ['abortSignal', 'signal'])).toBe('signal');
  });

  it('should take a known key that starts with an abbreviation', () => {
    expect(nearestKey('synonymProb', ['seed', 'synonymProbability'])).toBe('synonymProbability');
    expect(nearestKey('sy', ['synonymProbability'])).toBeUndefined();
  });

  it('should point the other abort option name at abortSignal', () => {
    expect(nearestKey('signal', ['steps', 'abortSignal'])).toBe('abortSignal');
    expect(nearestKey('size', ['batchSize'])).toBeUndefined();
  });

  it('should return undefined when nothing is close', () => {
    expect(nearestKey('xyz', ['steps', 'seed'])).toBeUndefined();
    expect(nearestKey('completelyDifferent', ['lr'])).toBeUndefined();
  });
});

describe('rejectUnknownOptions', () => {
  it('should accept known keys and non-object values', () => {
    expect(() => rejectUnknownOptions({ steps: 1 }, ['steps', 'seed'], 'train')).not.toThrow();
    expect(() => rejectUnknownOptions(undefined, ['steps'], 'train')).not.toThrow();
    expect(() => rejectUnknownOptions(true, ['steps'], 'train')).not.toThrow();
  });

  it('should name the function, the key and the nearest valid key', () => {
    const error = thrown(() => rejectUnknownOptions({ stepz: 9 }, ['steps', 'seed'], 'trainVLM'));
    expect(error.message).toBe(
      'trainVLM: unknown option "stepz". Did you mean "steps"? Valid options: steps, seed.',
    );
    expect(error.setting).toBe('stepz');
  });

  it('should name nested keys with their path', () => {
    const error = thrown(() =>
      rejectUnknownOptions({ beamsize: 3 }, ['strategy', 'beamSize'], 'trainVLM', 'validation.decode'),
    );
    expect(error.message).toMatch(
      /^trainVLM: unknown option "validation\.decode\.beamsize"\. Did you mean "validation\.decode\.beamSize"\?/,
    );
    expect(error.setting).toBe('validation.decode.beamsize');
  });

  it('should omit the suggestion when no key is close', () => {
    const error = thrown(() => rejectUnknownOptions({ zzz: 1 }, ['steps'], 'f'));
    expect(error.message).toBe('f: unknown option "zzz". Valid options: steps.');
  });
});

describe('unknownOptionError', () => {
  it('should be a ConfigurationError with the setting', () => {
    const error = unknownOptionError('concurency', ['concurrency', 'count'], 'synthesizeCaptions');
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain('Did you mean "concurrency"?');
  });
});

const Schema = z
  .object({
    steps: z.number().int().default(1),
    decoder: z
      .object({ layers: z.number().default(2), gateInit: z.number().default(0) })
      .strict()
      .prefault({}),
    list: z.array(z.object({ name: z.string() }).strict()).optional(),
  })
  .strict();

describe('schemaKeysAt', () => {
  it('should list the keys at a path through wrappers and arrays', () => {
    expect(schemaKeys(Schema)).toEqual(['steps', 'decoder', 'list']);
    expect(schemaKeysAt(Schema, ['decoder'])).toEqual(['layers', 'gateInit']);
    expect(schemaKeysAt(Schema, ['list', 0])).toEqual(['name']);
    expect(schemaKeysAt(Schema, ['nope'])).toEqual([]);
  });
});

describe('parseStrictOptions', () => {
  it('should return the parsed options with defaults', () => {
    expect(parseStrictOptions(Schema, undefined, 'f')).toEqual({
      steps: 1,
      decoder: { layers: 2, gateInit: 0 },
    });
  });

  it('should turn an unknown nested key into a did-you-mean error', () => {
    const error = thrown(() =>
      parseStrictOptions(Schema, { decoder: { gateinit: 1 } }, 'CaptioningVLM.create'),
    );
    expect(error.message).toMatch(
      /^CaptioningVLM\.create: unknown option "decoder\.gateinit"\. Did you mean "decoder\.gateInit"\?/,
    );
    expect(error.setting).toBe('decoder.gateinit');
  });

  it('should report the unknown key before other issues of the same object', () => {
    const error = thrown(() => parseStrictOptions(Schema, { steps: 'x', stesp: 2 }, 'f'));
    expect(error.setting).toBe('stesp');
  });

  it('should name the setting of other issues', () => {
    const error = thrown(() => parseStrictOptions(Schema, { steps: 1.5 }, 'f'));
    expect(error.setting).toBe('steps');
    expect(error.message).toMatch(/^f: "steps": /);
  });
});

describe('optionKeys', () => {
  it('should list the keys of an options type', () => {
    interface Options {
      steps: number;
      seed?: number;
    }
    expect(optionKeys<Options>({ steps: true, seed: true })).toEqual(['steps', 'seed']);
  });
});
