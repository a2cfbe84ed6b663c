import { describe, expect, it } from 'vitest';
import { ConceptInventorySchema, ConfigurationError } from '@synth2/core';
import { resolveConfig } from './config';
import { parseEndpoints } from './main';
import { captionSourceSpec, queued } from './queued-stages';

describe('resolveConfig (queue)', () => {
  it('should leave the queue off by default and fill its defaults when a URL is given', () => {
    expect(resolveConfig({}).queue).toBeUndefined();
    expect(queued(resolveConfig({}), 'generate')).toBe(false);
    const c = resolveConfig({}, { 'queue.url': 'redis://10.0.0.5:6379/2' });
    expect(c.queue).toEqual({ url: 'redis://10.0.0.5:6379/2', name: 'synth2', stages: ['captions', 'generate'], captionsPerJob: 16, endpoint: 'default', recordsPerJob: 1024 });
    const only = resolveConfig({ queue: { url: 'rediss://cache:6380', stages: ['generate'] } });
    expect(queued(only, 'captions')).toBe(false);
    expect(queued(only, 'generate')).toBe(true);
  });

  it('should reject a bad URL, an unknown stage and unknown keys, naming the setting', () => {
    const fail = (raw: unknown) => {
      try {
        resolveConfig(raw);
      } catch (error) {
        expect(ConfigurationError.isInstance(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('no error');
    };
    expect(fail({ queue: { url: 'localhost:6379' } })).toMatch(/"queue.url".*Redis URL such as redis:\/\/127.0.0.1:6379/);
    expect(fail({ queue: { url: 'redis://h', stages: ['vlm'] } })).toMatch(/"queue.stages.0"/);
    expect(fail({ queue: { url: 'redis://h', concurency: 2 } })).toMatch(/concurency/);
    expect(fail({ queue: { name: 'x' } })).toMatch(/"queue.url"/);
  });
});

describe('captionSourceSpec', () => {
  const inventory = ConceptInventorySchema.parse({ name: 'test', objects: [{ id: 'shape:circle', name: 'circle' }], attributes: [] });

  it('should describe the concept grammar when no LLM is configured', () => {
    const spec = captionSourceSpec(resolveConfig({ seed: 4 }), inventory, {});
    expect(spec).toMatchObject({ provider: 'concept-grammar', settings: { inventory, seed: 4 }, plugins: [] });
  });

  it('should describe the LLM without its API key (workers use their own OPENAI_API_KEY)', () => {
    const spec = captionSourceSpec(resolveConfig({ captions: { model: 'llama' } }), inventory, {
      OPENAI_API_KEY: 'sk-secret',
      OPENAI_BASE_URL: 'http://llm:8000/v1',
    });
    expect(spec.provider).toBe('openai-compatible');
    expect(spec.settings).toEqual({ model: 'llama', maxConcurrency: 8 });
    expect(spec.endpoint).toBe('default');
    expect(JSON.stringify(spec)).not.toContain('sk-secret');
  });

  it('should name one of the workers\' endpoints and never send a URL, even one set in the config', () => {
    const spec = captionSourceSpec(
      resolveConfig({ captions: { source: 'openai', baseURL: 'http://attacker.example/v1' }, queue: { url: 'redis://127.0.0.1:6379', endpoint: 'local-llm' } }),
      inventory,
      {},
    );
    expect(spec.endpoint).toBe('local-llm');
    expect(JSON.stringify({ ...spec, reason: undefined })).not.toContain('attacker.example');
    expect(spec.reason).toContain('--endpoint local-llm=URL');
  });

  it('should name plugin sources with the plugins every worker loads', () => {
    const spec = captionSourceSpec(resolveConfig({ captions: { source: 'example/templates' }, plugins: ['synth2-plugin-x'] }), inventory, {});
    expect(spec).toMatchObject({ provider: 'example/templates', plugins: ['synth2-plugin-x'], settings: { inventory } });
  });
});

describe('synth2 worker --endpoint', () => {
  it('should read NAME=URL pairs and refuse anything else, naming the entry', () => {
    expect(parseEndpoints(['default=http://127.0.0.1:8000/v1', 'big=https://llm.internal/v1'])).toEqual({
      default: 'http://127.0.0.1:8000/v1',
      big: 'https://llm.internal/v1',
    });
    for (const bad of ['http://127.0.0.1:8000/v1', 'x=', '=http://a', 'x=file:///etc/passwd']) {
      expect(() => parseEndpoints([bad])).toThrow(`--endpoint "${bad}" is not NAME=URL`);
    }
  });
});
