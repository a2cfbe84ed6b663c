import { isAbsolute } from 'node:path';
import { ConfigurationError } from '@synth2/core';
import { isPluginPackageName } from '@synth2/core/internal';

/** Whether a plugin specifier names a local file: an absolute or `./` `../` relative path, or a `file:` URL. */
export function isLocalPath(specifier: string): boolean {
  return isAbsolute(specifier) || /^\.\.?([/\\]|$)/.test(specifier) || specifier.startsWith('file:');
}

const shown = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);

/**
 * The plugin trust check, done before anything is imported (importing a module runs its code). A config's `plugins`
 * may name installed packages only, resolved from the project the command runs in. Local files (absolute or
 * relative paths, `file:` URLs) need `allowPaths` (`--allow-plugin-paths`); other URLs (`data:`, `http:`, `node:`…)
 * are always refused.
 */
export function checkPluginSpecifiers(plugins: readonly string[], options: { allowPaths?: boolean } = {}): void {
  for (const spec of plugins) {
    if (isPluginPackageName(spec)) continue;
    if (options.allowPaths && typeof spec === 'string' && isLocalPath(spec)) continue;
    const local = typeof spec === 'string' && isLocalPath(spec);
    throw new ConfigurationError(
      local
        ? `plugins: ${shown(spec)} is a local file, not a package name. Loading a plugin runs its code, so plugins are installed npm packages named by package name (e.g. "synth2-plugin-foo" or "@org/synth2-plugin"). If you trust this file, pass --allow-plugin-paths.`
        : `plugins: ${shown(String(spec))} is not a package name. Loading a plugin runs its code, so plugins are installed npm packages named by package name (e.g. "synth2-plugin-foo" or "@org/synth2-plugin"); URLs (data:, http:) and subpaths are never loaded. Install the plugin in this project and list its package name.`,
      { setting: 'plugins' },
    );
  }
}
