import { describe, expect, it } from 'vitest';
import { authorizeSourceSpec } from './source-spec';

describe('authorizeSourceSpec', () => {
  const openai = (extra: Record<string, unknown> = {}) => ({
    provider: 'openai-compatible',
    settings: { model: 'm', temperature: 0.5 },
    plugins: [],
    ...extra,
  });

  it("should give the named endpoint's URL and key from the worker, and the worker's own default otherwise", () => {
    const trust = {
      endpoints: {
        llm: 'http://10.0.0.5:8000/v1',
        paid: { baseURL: 'https://llm.example/v1', apiKey: 'k2' },
      },
    };
    expect(authorizeSourceSpec(openai({ endpoint: 'llm' }), trust).settings).toEqual({
      model: 'm',
      temperature: 0.5,
      baseURL: 'http://10.0.0.5:8000/v1',
    });
    expect(authorizeSourceSpec(openai({ endpoint: 'paid' }), trust).settings).toMatchObject({
      baseURL: 'https://llm.example/v1',
      apiKey: 'k2',
    });
    // no endpoint named: `default`, i.e. the worker's environment (no URL in the settings)
    expect(authorizeSourceSpec(openai(), trust).settings).toEqual({ model: 'm', temperature: 0.5 });
    expect(
      authorizeSourceSpec(openai({ endpoint: 'default' }), { endpoints: { default: 'http://a/v1' } }).settings
        .baseURL,
    ).toBe('http://a/v1');
    // inherited object keys are not endpoints
    expect(() => authorizeSourceSpec(openai({ endpoint: 'constructor' }), trust)).toThrow(
      /endpoint "constructor", which this worker does not have \(it has: default, llm, paid\)/,
    );
  });

  it('should refuse what only the worker decides', () => {
    for (const key of ['baseURL', 'apiKey', 'env', 'headers', 'fetch']) {
      expect(() => authorizeSourceSpec(openai({ settings: { [key]: 'x' } }))).toThrow(
        new RegExp(`sets "${key}" for the openai-compatible source, which only the worker decides`),
      );
    }
    expect(() =>
      authorizeSourceSpec({ provider: 'concept-grammar', settings: {}, plugins: [], endpoint: 'llm' }),
    ).toThrow(/applies to the openai-compatible source only/);
    expect(() =>
      authorizeSourceSpec({ provider: 'my/source', settings: { apiKey: 'k' }, plugins: [] }),
    ).toThrow(/Do not put apiKey/);
    expect(() =>
      authorizeSourceSpec(
        { provider: 'my/source', settings: {}, plugins: ['/tmp/evil.mjs'] },
        { allowedPlugins: ['my-plugin'] },
      ),
    ).toThrow(
      /plugin "\/tmp\/evil\.mjs", which this worker does not allow \(allowed: my-plugin\); it was not imported/,
    );
    expect(
      authorizeSourceSpec(
        { provider: 'my/source', settings: { a: 1 }, plugins: ['my-plugin'] },
        { allowedPlugins: ['my-plugin'] },
      ),
    ).toEqual({
      provider: 'my/source',
      settings: { a: 1 },
      plugins: ['my-plugin'],
    });
  });
});
