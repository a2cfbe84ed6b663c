import assert from 'node:assert/strict';
import { ConfigurationError } from '../errors';

/** What the rejection of an unknown option names: the function, the key (dotted when nested) and the suggestion. */
export interface UnknownOptionRejection {
  where: string;
  key: string;
  suggestion: string;
}

/**
 * Calls `call` (awaiting what it returns) and asserts that it fails with the `ConfigurationError` of an unknown
 * option: the message holds `<where>: unknown option "<key>"` and `Did you mean "<suggestion>"?`, and `setting` is
 * the key. Returns the error.
 */
export async function expectUnknownOptionRejected(
  call: () => unknown,
  { where, key, suggestion }: UnknownOptionRejection,
): Promise<ConfigurationError> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(ConfigurationError.isInstance(error), `${where} should throw a ConfigurationError, got ${String(error)}`);
  const { message, setting } = error as ConfigurationError;
  assert.ok(message.includes(`${where}: unknown option "${key}"`), `unexpected message: ${message}`);
  assert.ok(message.includes(`Did you mean "${suggestion}"?`), `unexpected message: ${message}`);
  assert.equal(setting, key);
  return error as ConfigurationError;
}
