import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, registryReachable } from './consumer-project';

describe('cleanEnv', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('should drop what points a child back at the monorepo and keep registry settings', () => {
    Object.assign(process.env, {
      npm_config_local_prefix: '/work/main',
      npm_config_workspace: 'packages/core',
      npm_package_name: 'synth2-tests-publish',
      npm_lifecycle_event: 'test',
      INIT_CWD: '/work/main',
      NODE_PATH: '/work/main/node_modules',
      NODE_OPTIONS: '--conditions=development',
      npm_config_registry: 'https://registry.example.test/',
      npm_config_cafile: '/etc/ssl/certs/ca.crt',
    });
    const env = cleanEnv({ EXTRA: '1' });
    for (const key of [
      'npm_config_local_prefix',
      'npm_config_workspace',
      'npm_package_name',
      'npm_lifecycle_event',
      'INIT_CWD',
      'NODE_PATH',
      'NODE_OPTIONS',
    ]) {
      expect(env, key).not.toHaveProperty(key);
    }
    expect(env.npm_config_registry).toBe('https://registry.example.test/');
    expect(env.npm_config_cafile).toBe('/etc/ssl/certs/ca.crt');
    expect(env.PATH).toBe(process.env.PATH);
    expect(env.EXTRA).toBe('1');
  });
});

describe('registryReachable', () => {
  it('should say the registry is unreachable when nothing answers', async () => {
    // a port that was free a moment ago: the connection is refused
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const result = await registryReachable({ registry: `http://127.0.0.1:${port}/`, timeoutMs: 10_000 });
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/unreachable/);
  });
});
