import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared real-data folder: env `SYNTH2_DATA_DIR`, default `<repo root>/../shared/data`. (Tests only.) */
export function sharedDataDir(): string {
  if (process.env.SYNTH2_DATA_DIR) return resolve(process.env.SYNTH2_DATA_DIR);
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  return join(repoRoot, '..', 'shared', 'data');
}

/** The path of a shared data set, or undefined (with the reason printed) when it is absent. */
export function sharedDataset(name: string): string | undefined {
  const dir = join(sharedDataDir(), name);
  if (existsSync(dir)) return dir;
  console.warn(`skipping tests on ${name}: ${dir} not found (set SYNTH2_DATA_DIR to the shared data folder)`);
  return undefined;
}
