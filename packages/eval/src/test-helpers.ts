import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

/** `SYNTH2_DATA_DIR` or `<repo root>/../shared/data`, with `coco-eval/` inside; undefined (and a printed reason) if absent. */
export function cocoEvalDir(): string | undefined {
  const base = process.env.SYNTH2_DATA_DIR ? resolve(process.env.SYNTH2_DATA_DIR) : resolve(here, '..', '..', '..', '..', 'shared', 'data');
  const dir = join(base, 'coco-eval');
  if (!existsSync(join(dir, 'expected'))) {
    console.warn(`[skip] real COCO evaluation data not found at ${dir} (set SYNTH2_DATA_DIR to the folder that holds coco-eval/)`);
    return undefined;
  }
  return dir;
}

export function readJsonMaybeGz<T = unknown>(file: string): T {
  const bytes = readFileSync(file);
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  return JSON.parse(text) as T;
}

export const FIXTURES = join(here, '__fixtures__');
