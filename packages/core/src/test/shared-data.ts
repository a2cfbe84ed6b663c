import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

function findMonorepoRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { workspaces?: unknown };
        if (json.workspaces) return dir;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The shared real-data folder: env `SYNTH2_DATA_DIR` if set, else `<monorepo root>/../shared/data` (the monorepo
 * root is found by walking up from `from`, default the current directory). Returns undefined if it does not exist.
 * With `sub`, returns that sub-path, or undefined if it is missing.
 */
export function sharedDataDir(sub?: string, options: { from?: string } = {}): string | undefined {
  let base: string | undefined;
  const env = process.env.SYNTH2_DATA_DIR;
  if (env) base = resolve(env);
  else {
    const root = findMonorepoRoot(options.from ?? process.cwd());
    if (root) base = resolve(root, '..', 'shared', 'data');
  }
  if (!base || !existsSync(base)) return undefined;
  const path = sub ? join(base, sub) : base;
  return existsSync(path) ? path : undefined;
}

/**
 * Why a test that needs real data must be skipped, or undefined if everything it needs is there. Prints the
 * reason (once per call) so a skipped test is visible in the output.
 * `skipReason('coco-mini')`, `skipReason(['coco-mini', 'captions'])`.
 */
export function skipReason(
  needs: string | readonly string[] = [],
  options: { from?: string; quiet?: boolean } = {},
): string | undefined {
  const list = typeof needs === 'string' ? [needs] : needs;
  const base = sharedDataDir(undefined, options);
  let reason: string | undefined;
  if (!base) {
    reason = process.env.SYNTH2_DATA_DIR
      ? `SYNTH2_DATA_DIR=${process.env.SYNTH2_DATA_DIR} does not exist`
      : 'shared data folder not found (set SYNTH2_DATA_DIR or place it at <repo>/../shared/data)';
  } else {
    const missing = list.filter((s) => !existsSync(join(base, s)));
    if (missing.length > 0) reason = `missing in ${base}: ${missing.join(', ')}`;
  }
  if (reason && !options.quiet) console.warn(`[skip] ${reason}`);
  return reason;
}
