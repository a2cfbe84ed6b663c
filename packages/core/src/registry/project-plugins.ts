import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../errors';
import { loadPlugins, type Synth2PluginV1 } from './registry';

/** An npm package name, optionally scoped (`synth2-plugin-x`, `@org/synth2-plugin`): no paths, URLs or subpaths. */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** Whether a plugin specifier is a bare npm package name (the only kind a command line or config may load). */
export function isPluginPackageName(specifier: unknown): specifier is string {
  return typeof specifier === 'string' && specifier.length <= 214 && PACKAGE_NAME.test(specifier);
}

/**
 * An importer that resolves a package the way the project in `dir` would (its `node_modules`, then the ones above),
 * falling back to a plain `import()` when the project cannot resolve it.
 */
export function projectImporter(dir: string = process.cwd()): (specifier: string) => Promise<unknown> {
  return async (specifier: string) => {
    const require = createRequire(join(dir, 'package.json'));
    let resolved: string;
    try {
      resolved = require.resolve(specifier);
    } catch {
      return import(specifier);
    }
    return import(pathToFileURL(resolved).href);
  };
}

/**
 * Loads plugin packages by package name from the project in `dir` (default: the working directory) and lets each
 * register itself. Loading a plugin runs its code, so anything but a package name (a path, a URL, a subpath) is
 * refused before anything is imported.
 */
export async function loadProjectPlugins(
  names: readonly string[],
  options: { dir?: string; setting?: string } = {},
): Promise<Synth2PluginV1[]> {
  const setting = options.setting ?? 'plugins';
  for (const name of names) {
    if (!isPluginPackageName(name)) {
      throw new ConfigurationError(
        `${setting}: ${JSON.stringify(name)} is not a package name. Loading a plugin runs its code, so plugins are installed npm packages named by package name (e.g. "synth2-plugin-foo" or "@org/synth2-plugin"); paths, URLs and subpaths are never loaded. Install the plugin in this project and give its package name.`,
        { setting },
      );
    }
  }
  return loadPlugins(names, { importer: projectImporter(options.dir) });
}
