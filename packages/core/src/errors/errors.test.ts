import { describe, expect, it } from 'vitest';
import {
  APICallError,
  AbortedError,
  BackendUnavailableError,
  CheckpointMismatchError,
  ConfigurationError,
  InvalidInputError,
  Synth2Error,
  throwIfAborted,
} from './errors';

describe('Synth2Error.isInstance', () => {
  it('should recognise every subclass through the Symbol.for marker', () => {
    const errors = [
      new InvalidInputError('x'),
      new ConfigurationError('x'),
      new APICallError('x'),
      new BackendUnavailableError('x', { backend: 'wasm' }),
      new CheckpointMismatchError('x'),
      new AbortedError(),
    ];
    for (const e of errors) {
      expect(Synth2Error.isInstance(e)).toBe(true);
      expect(e).toBeInstanceOf(Error);
    }
    expect(InvalidInputError.isInstance(errors[0])).toBe(true);
    expect(InvalidInputError.isInstance(errors[1])).toBe(false);
    expect(ConfigurationError.isInstance(errors[0])).toBe(false);
    expect(Synth2Error.isInstance(new Error('plain'))).toBe(false);
    expect(Synth2Error.isInstance(null)).toBe(false);
  });

  it('should work across duplicate copies of the package (objects carrying the global marker only)', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      [Symbol.for('synth2.error')]: true,
      [Symbol.for('synth2.error.invalid_input')]: true,
    });
    expect(Synth2Error.isInstance(foreign)).toBe(true);
    expect(InvalidInputError.isInstance(foreign)).toBe(true);
    expect(APICallError.isInstance(foreign)).toBe(false);
  });
});

describe('InvalidInputError', () => {
  it('should prefix the message with file, line and field and keep the cause', () => {
    const cause = new Error('root');
    const e = new InvalidInputError('expected string', { file: 'a.jsonl', line: 3, field: 'text', cause });
    expect(e.message).toBe('a.jsonl:3, field "text": expected string');
    expect(e.cause).toBe(cause);
    expect(e.code).toBe('invalid_input');
    expect(new InvalidInputError('bad', { line: 2 }).message).toBe('line 2: bad');
  });
});

describe('APICallError', () => {
  it('should mark 408/409/429/5xx and network failures retryable, other 4xx not', () => {
    expect(new APICallError('x', { status: 429 }).retryable).toBe(true);
    expect(new APICallError('x', { status: 503 }).retryable).toBe(true);
    expect(new APICallError('x').retryable).toBe(true);
    expect(new APICallError('x', { status: 400 }).retryable).toBe(false);
    expect(new APICallError('x', { status: 500, retryable: false }).retryable).toBe(false);
  });
});

describe('throwIfAborted', () => {
  it('should throw AbortedError with the reason as cause only when aborted', () => {
    const ac = new AbortController();
    expect(() => throwIfAborted(ac.signal)).not.toThrow();
    expect(() => throwIfAborted(undefined)).not.toThrow();
    ac.abort('stop');
    try {
      throwIfAborted(ac.signal);
      expect.unreachable();
    } catch (e) {
      expect(AbortedError.isInstance(e)).toBe(true);
      expect((e as Error).cause).toBe('stop');
    }
  });
});
