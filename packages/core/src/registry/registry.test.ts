import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../errors';
import { Registry, getRegistries, loadPlugins } from './registry';

describe('Registry', () => {
  it('should create registered entries and list them', async () => {
    const r = new Registry<number>('thing');
    r.register({ id: 'one', create: () => 1, description: 'the number one' });
    expect(await r.create('one')).toBe(1);
    expect(r.list()).toEqual([{ id: 'one', description: 'the number one', plugin: undefined }]);
  });

  it('should name known ids when an id is unknown', () => {
    const r = new Registry<number>('thing');
    r.register({ id: 'a', create: () => 1 });
    expect(() => r.get('b')).toThrow(/Unknown thing "b". Known: a/);
    expect(ConfigurationError.isInstance(captureError(() => r.get('b')))).toBe(true);
  });

  it('should refuse duplicate ids unless overriding', () => {
    const r = new Registry<number>('thing');
    r.register({ id: 'a', create: () => 1 });
    expect(() => r.register({ id: 'a', create: () => 2 })).toThrow(/already registered/);
    r.register({ id: 'a', create: () => 2 }, { override: true });
    expect(r.get('a').create({})).toBe(2);
  });
});

describe('getRegistries', () => {
  it('should hold the caption source and metric registries only (no models registry)', () => {
    expect(Object.keys(getRegistries()).sort()).toEqual(['captionSources', 'metrics']);
    expect(getRegistries().metrics.kind).toBe('metric');
  });
});

describe('loadPlugins', () => {
  it('should let a plugin register into the shared registries', async () => {
    const plugin = {
      specificationVersion: 'v1' as const,
      name: 'test-plugin',
      register(reg: ReturnType<typeof getRegistries>) {
        reg.metrics.register({
          id: 'test/length',
          plugin: 'test-plugin',
          create: () => ({
            specificationVersion: 'v1' as const,
            id: 'test/length',
            score: async ({ predictions }: { predictions: Record<string, string> }) => ({
              score: Object.values(predictions).join(' ').length,
            }),
          }),
        });
      },
    };
    await loadPlugins(['fake-plugin'], { importer: async () => ({ synth2Plugin: plugin }) });
    const metric = await getRegistries().metrics.create('test/length');
    expect((await metric.score({ references: {}, predictions: { a: 'abc' } })).score).toBe(3);
  });

  it('should explain what to install when a plugin cannot be imported', async () => {
    await expect(
      loadPlugins(['does-not-exist-xyz'], { importer: async () => Promise.reject(new Error('not found')) }),
    ).rejects.toThrow(/npm install does-not-exist-xyz/);
  });

  it('should reject a module that is not a plugin', async () => {
    await expect(loadPlugins(['x'], { importer: async () => ({ foo: 1 }) })).rejects.toThrow(/is not a Synth² plugin/);
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
