import { spawnSync } from 'node:child_process';

/** True when `python3` runs and can import every module in `modules` (e.g. `['numpy']`). */
export function hasPython(
  modules: readonly string[] = [],
  python = process.env.PYTHON ?? 'python3',
): boolean {
  const code = modules.map((m) => `import ${m}`).join('; ') || 'pass';
  const r = spawnSync(python, ['-c', code], { stdio: 'ignore', timeout: 30_000 });
  return r.status === 0;
}
