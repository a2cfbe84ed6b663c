import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDirectory, stableHash, type StageEvent } from './run-directory';

async function tmp() {
  return mkdtemp(join(tmpdir(), 'synth2-run-'));
}

describe('stableHash', () => {
  it('should not depend on key order', () => {
    expect(stableHash({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(stableHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(stableHash({ a: 1 })).not.toBe(stableHash({ a: 2 }));
  });
});

describe('RunDirectory', () => {
  it('should skip finished stages, rerun changed ones and their dependants', async () => {
    const root = await tmp();
    const calls: string[] = [];
    const events: StageEvent[] = [];
    const pipeline = async (aSetting: number, bSetting: number) => {
      const run = await RunDirectory.open(root, { config: {}, seed: 1 });
      await run.run('a', { settings: { aSetting }, onEvent: (e) => events.push(e) }, async () => {
        calls.push('a');
        return { summary: { value: aSetting } };
      });
      await run.run('b', { settings: { bSetting }, dependsOn: ['a'] }, async () => {
        calls.push('b');
      });
      return run;
    };
    await pipeline(1, 1);
    expect(calls).toEqual(['a', 'b']);
    await pipeline(1, 1);
    expect(calls).toEqual(['a', 'b']);
    expect(events.some((e) => e.type === 'stage-skip')).toBe(true);
    await pipeline(1, 2);
    expect(calls).toEqual(['a', 'b', 'b']);
    await pipeline(2, 2);
    expect(calls).toEqual(['a', 'b', 'b', 'a', 'b']);
    const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));
    expect(manifest.stages.a).toMatchObject({ status: 'done', summary: { value: 2 } });
  });

  it('should mark a failed stage and resume it on the next run', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await expect(
      run.run('a', { settings: {} }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(run.stage('a')).toMatchObject({ status: 'failed', error: 'boom' });
    run = await RunDirectory.open(root, { config: {}, seed: 1 });
    let resuming: boolean | undefined;
    await run.run('a', { settings: {} }, async (ctx) => {
      resuming = ctx.resuming;
    });
    expect(resuming).toBe(true);
    expect(run.stage('a')?.status).toBe('done');
  });

  it('should keep an interrupted stage’s files for its resume but start a changed stage from an empty folder', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await expect(
      run.run('a', { settings: { v: 1 } }, async (ctx) => {
        await writeFile(join(ctx.dir, 'partial.ckpt'), 'step 10');
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    run = await RunDirectory.open(root, { config: {}, seed: 1 });
    let seen: string | undefined;
    await expect(
      run.run('a', { settings: { v: 1 } }, async (ctx) => {
        seen = await readFile(join(ctx.dir, 'partial.ckpt'), 'utf8');
        throw new Error('interrupted again');
      }),
    ).rejects.toThrow('interrupted again');
    expect(seen).toBe('step 10');
    // new settings: the old checkpoint must not be resumed by the new model
    run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await run.run('a', { settings: { v: 2 } }, async (ctx) => {
      expect(ctx.resuming).toBe(false);
      await expect(readFile(join(ctx.dir, 'partial.ckpt'), 'utf8')).rejects.toThrow(/ENOENT/);
    });
    expect(run.stage('a')?.status).toBe('done');
  });

  it('should refuse a directory whose manifest is not a run manifest', async () => {
    const root = await tmp();
    await writeFile(join(root, 'manifest.json'), '{"hello": 1}');
    await expect(RunDirectory.open(root, { config: {}, seed: 1 })).rejects.toThrow(/not a Synth² run manifest/);
    await writeFile(join(root, 'manifest.json'), '{"hello": ');
    await expect(RunDirectory.open(root, { config: {}, seed: 1 })).rejects.toThrow(/not valid JSON/);
  });
});
