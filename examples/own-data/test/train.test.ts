import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const program = join(here, '..', 'dist', 'train.js');
const DATA = process.env.SYNTH2_DATA_DIR ?? join(here, '../../../../shared/data');
const COCO_MINI = join(DATA, 'coco-mini');
if (!existsSync(COCO_MINI)) console.log(`skipped: ${COCO_MINI} not found (set SYNTH2_DATA_DIR)`);

describe.skipIf(!existsSync(COCO_MINI))('src/train.ts on coco-mini (tiny settings)', () => {
  it('should train both VLMs on the folder and print their scores', async () => {
    expect(existsSync(program), 'run `npm run build -w synth2-example-own-data` first').toBe(true);
    const out = await mkdtemp(join(tmpdir(), 'synth2-own-data-'));
    const run = spawnSync(process.execPath, [program, COCO_MINI, out, '--tiny'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    for (const name of ['baseline', 'synth2']) {
      expect(run.stdout).toMatch(new RegExp(`^${name}: CIDEr \\d+\\.\\d{3}, BLEU-4 \\d+\\.\\d{3}, ROUGE-L \\d+\\.\\d{3}$`, 'm'));
      expect(existsSync(join(out, `vlm-${name}`)), name).toBe(true);
    }
    expect(existsSync(join(out, 'captions.jsonl'))).toBe(true);
  }, 900_000);
});
