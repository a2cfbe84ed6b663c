import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPluginPackageName, loadProjectPlugins } from './project-plugins';
import { getRegistries } from './registry';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A project folder whose node_modules holds one plugin package registering a metric. */
async function projectWithPlugin(pkg: string, metricId: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synth2-project-plugins-'));
  dirs.push(dir);
  const pkgDir = join(dir, 'node_modules', pkg);
  await mkdir(pkgDir, { recursive: true });
  await writeFile(join(pkgDir, 'package.json'), JSON.stringify({ name: pkg, type: 'module', main: 'index.js' }));
  await writeFile(
    join(pkgDir, 'index.js'),
    `export const synth2Plugin = { specificationVersion: 'v1', name: '${pkg}', register(r) {
      r.metrics.register({ id: '${metricId}', plugin: '${pkg}', create: () => ({ specificationVersion: 'v1', id: '${metricId}',
        score: async ({ predictions }) => ({ score: Object.keys(predictions).length }) }) });
    } };\n`,
  );
  return dir;
}

describe('isPluginPackageName', () => {
  it('should accept package names and refuse paths, URLs and subpaths', () => {
    for (const ok of ['synth2-plugin-x', '@my-org/synth2.plugin_x']) expect(isPluginPackageName(ok), ok).toBe(true);
    for (const bad of ['./p.js', '/abs/p.js', 'file:///p.js', 'data:text/javascript,1', 'pkg/sub', '', 42]) {
      expect(isPluginPackageName(bad), String(bad)).toBe(false);
    }
  });
});

describe('loadProjectPlugins', () => {
  it('should import a package from the project directory and let it register', async () => {
    const dir = await projectWithPlugin('synth2-plugin-project-test', 'project-test/count');
    await loadProjectPlugins(['synth2-plugin-project-test'], { dir });
    const metric = await getRegistries().metrics.create('project-test/count');
    expect((await metric.score({ references: {}, predictions: { a: 'x', b: 'y' } })).score).toBe(2);
  });

  it('should refuse a path before importing anything, naming the setting', async () => {
    await expect(loadProjectPlugins(['./evil.js'], { setting: '--plugin' })).rejects.toThrow(
      /--plugin: "\.\/evil\.js" is not a package name/,
    );
  });
});
