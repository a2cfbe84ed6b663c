import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Options } from 'tsup';
import { browserBuildConfig } from '../../tsup.browser';

const OUT = 'dist/browser';
// a Node built-in, with or without `node:` (tsup strips the prefix and leaves such imports external)
const NODE_BUILTIN_IMPORT =
  /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[^"']+|fs|fs\/promises|path|os|child_process|zlib|url|util|crypto|stream|worker_threads|module)["']/;

/** Fails the build when a file of the browser build still imports a Node built-in. */
async function checkNoNodeImports(): Promise<void> {
  for (const file of await readdir(OUT)) {
    if (!file.endsWith('.js')) continue;
    const match = NODE_BUILTIN_IMPORT.exec(await readFile(join(OUT, file), 'utf8'));
    if (match) {
      throw new Error(
        `${OUT}/${file} imports the Node built-in "${match[1]}": give the module that imports it a .browser.ts twin`,
      );
    }
  }
}

// the same entry as Node's: modules with a `.browser.ts` twin (file reading, the Java scorers, the CLI) swap for
// versions that throw a "needs Node" error
const config: Options = {
  ...(browserBuildConfig({ index: 'src/index.ts' }) as Options),
  onSuccess: checkNoNodeImports,
};
export default config;
