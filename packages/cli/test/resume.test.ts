import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'dist', 'bin.js');

const ARGS = [
  '--seed', '5', '--json',
  '--data.train', '32', '--data.val', '0', '--data.test', '12',
  '--tokenizer.steps', '10', '--generator.steps', '200', '--generator.batchSize', '8',
  '--captions.count', '20', '--vlm.steps', '6', '--vlm.batchSize', '8',
];

type Event = Record<string, any>;

/** Runs `synth2 run`; with `interruptWhen`, sends SIGINT once an event matches (like Ctrl-C). */
function synth2(out: string, interruptWhen?: (e: Event) => boolean): Promise<{ code: number; events: Event[]; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, 'run', '--out', out, ...ARGS], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    const events: Event[] = [];
    let stderr = '';
    let buf = '';
    let sent = false;
    const onData = (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        const e = JSON.parse(l) as Event;
        events.push(e);
        if (!sent && interruptWhen?.(e)) {
          sent = true;
          p.kill('SIGINT');
        }
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onData(d);
    });
    p.on('close', (code) => resolve({ code: code ?? -1, events, stderr }));
  });
}

describe.skipIf(!existsSync(bin))('an interrupted synth2 run', () => {
  it('should stop on Ctrl-C mid-training and resume that stage from its checkpoint', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'synth2-resume-')), 'run');
    const first = await synth2(out, (e) => e.type === 'progress' && e.stage === 'generator' && e.done >= 20);
    expect(first.code).not.toBe(0);
    // the generator was interrupted; the baseline VLM training beside it in a child process may stop first
    const failed = first.events.filter((e) => e.type === 'stage-failed').map((e) => e.stage);
    expect(failed).toContain('generator');
    expect(first.events.some((e) => e.type === 'stage-done' && e.stage === 'tokenizer')).toBe(true);

    const second = await synth2(out);
    expect(second.code, second.stderr).toBe(0);
    expect(second.events.filter((e) => e.type === 'stage-skip').map((e) => e.stage)).toEqual(expect.arrayContaining(['data', 'tokenizer', 'captions']));
    const restart = second.events.find((e) => e.type === 'stage-start' && e.stage === 'generator');
    expect(restart?.resuming).toBe(true);
    // training continued from the checkpoint written on interruption, not from step 1
    const firstProgress = second.events.find((e) => e.type === 'progress' && e.stage === 'generator');
    expect(firstProgress?.done).toBeGreaterThan(10);
    expect(second.events.some((e) => e.type === 'stage-done' && e.stage === 'report')).toBe(true);
  });
});
