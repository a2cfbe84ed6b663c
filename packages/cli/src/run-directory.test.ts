import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ShardedTensorWriter } from '@synth2/core';
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

/** Every file under `dir` with its bytes, for byte-identical comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const abs = join(e.parentPath, e.name);
      out[relative(dir, abs)] = (await readFile(abs)).toString('base64');
    }
  }
  return out;
}

const redo = (stage: string) => `synth2 run --out RUN --redo ${stage}`;

/** The error a promise rejects with (or a failed expectation when it resolves). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(result, 'expected a rejection').toBeInstanceOf(Error);
  return result!;
}

describe('RunDirectory ownership', () => {
  it('should refuse a non-empty folder without a run manifest and leave every file as it was', async () => {
    const root = await tmp();
    await mkdir(join(root, 'data'), { recursive: true });
    await mkdir(join(root, 'report'), { recursive: true });
    await writeFile(join(root, 'data', 'my-images.bin'), Buffer.from([1, 2, 3, 4]));
    await writeFile(join(root, 'report', 'notes.md'), '# my notes\n');
    const before = await snapshot(root);
    const error = await failure(RunDirectory.open(root, { config: {}, seed: 1 }));
    expect(error.message).toContain(root);
    expect(error.message).toMatch(/not empty .* not a Synth² run directory .*Pick a new folder with --out/);
    expect(await snapshot(root)).toEqual(before);
    expect(existsSync(join(root, 'manifest.json'))).toBe(false);
  });

  it('should start a run in a missing or an empty folder, and reopen its own run', async () => {
    const parent = await tmp();
    await RunDirectory.open(join(parent, 'new'), { config: {}, seed: 1 });
    expect(existsSync(join(parent, 'new', 'manifest.json'))).toBe(true);
    await RunDirectory.open(join(parent, 'new'), { config: {}, seed: 2 });
    const run = await RunDirectory.open(await tmp(), { config: {}, seed: 1 });
    expect(run.data.format).toBe('synth2-run');
  });

  it('should never empty a stage folder the manifest has no record of', async () => {
    const root = await tmp();
    const run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await mkdir(join(root, 'data'));
    await writeFile(join(root, 'data', 'keep.txt'), 'mine');
    let ran = false;
    await expect(
      run.run('data', { settings: {} }, async () => {
        ran = true;
      }),
    ).rejects.toThrow(/no record of the data stage, but its folder exists: synth2 did not make it/);
    expect(ran).toBe(false);
    expect(await readFile(join(root, 'data', 'keep.txt'), 'utf8')).toBe('mine');
  });
});

describe('RunDirectory integrity', () => {
  const writeStage = (run: RunDirectory, content = 'x'.repeat(4096)) =>
    run.run('a', { settings: {} }, async (ctx) => {
      await mkdir(join(ctx.dir, 'model'), { recursive: true });
      await writeFile(join(ctx.dir, 'model', 'weights.bin'), content);
      await writeFile(join(ctx.dir, 'out.json'), '{"ok":true}');
      await writeFile(join(ctx.dir, 'checkpoint.bin'), 'not an output');
      return { outputs: ['a/model', 'a/out.json'] };
    });

  it('should record the size and SHA-256 of every output file', async () => {
    const root = await tmp();
    const run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await writeStage(run);
    const files = run.stage('a')?.files;
    expect(files?.map((f) => f.path)).toEqual(['a/model/weights.bin', 'a/out.json']);
    expect(files?.[0]).toEqual({ path: 'a/model/weights.bin', bytes: 4096, sha256: createHash('sha256').update('x'.repeat(4096)).digest('hex') });
    const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));
    expect(manifest.stages.a.files).toEqual(files);
  });

  it('should refuse to start a stage whose input changed, naming the file and the command that redoes it', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    await writeStage(run);
    const weights = join(root, 'a', 'model', 'weights.bin');
    const bytes = await readFile(weights);
    bytes[100] ^= 0xff; // same size, one byte flipped
    await writeFile(weights, bytes);
    run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    let ran = false;
    const error = await failure(
      run.run('b', { settings: {}, dependsOn: ['a'], reads: ['a'] }, async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(error.message).toContain(weights);
    expect(error.message).toMatch(/changed since the a stage wrote it/);
    expect(error.message).toContain('synth2 run --out RUN --redo a');
  });

  it('should check only the named path when a stage reads one file of another', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    await writeStage(run);
    await writeFile(join(root, 'a', 'model', 'weights.bin'), 'y'.repeat(4096));
    run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    await run.run('b', { settings: {}, dependsOn: ['a'], reads: ['a/out.json'] }, async () => {});
    await expect(run.run('c', { settings: {}, dependsOn: ['a'], reads: ['a/model'] }, async () => {})).rejects.toThrow(/weights\.bin: changed since the a stage wrote it/);
  });

  it('should check a finished stage’s files when it is skipped, and say to --redo it when its folder was deleted', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    await writeStage(run);
    await rm(join(root, 'a'), { recursive: true });
    run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    await expect(writeStage(run)).rejects.toThrow(/a[/\\]model[/\\]weights\.bin: missing: the a stage wrote it .*--redo a/);
  });

  it('should redo a finished stage from an empty folder after redo()', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await writeStage(run, 'first');
    await writeFile(join(root, 'a', 'model', 'weights.bin'), 'tampered');
    run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await run.redo(['a']);
    expect(run.stage('a')?.status).toBe('pending');
    const events: StageEvent[] = [];
    await run.run('a', { settings: {}, onEvent: (e) => events.push(e) }, async (ctx) => {
      expect(existsSync(join(ctx.dir, 'checkpoint.bin'))).toBe(false);
      await mkdir(join(ctx.dir, 'model'), { recursive: true });
      await writeFile(join(ctx.dir, 'model', 'weights.bin'), 'second');
      return { outputs: ['a/model'] };
    });
    expect(events.find((e) => e.type === 'stage-start')).toMatchObject({ reason: 'redo', resuming: false });
    await run.verify('a');
    expect(run.stage('a')?.files?.[0].sha256).toBe(createHash('sha256').update('second').digest('hex'));
  });

  it('should give hashes to a finished stage recorded without them (an older run) the first time it is checked', async () => {
    const root = await tmp();
    let run = await RunDirectory.open(root, { config: {}, seed: 1 });
    await writeStage(run);
    const manifest = JSON.parse(await readFile(join(root, 'manifest.json'), 'utf8'));
    delete manifest.stages.a.files;
    await writeFile(join(root, 'manifest.json'), JSON.stringify(manifest));
    run = await RunDirectory.open(root, { config: {}, seed: 1 });
    expect(run.stage('a')?.files).toBeUndefined();
    await run.verify('a');
    expect(run.stage('a')?.files).toHaveLength(2);
  });
});

describe('RunDirectory with a sharded store output', () => {
  async function storeStage(root: string, edit?: (manifest: Record<string, any>) => void) {
    const run = await RunDirectory.open(root, { config: {}, seed: 1, redoCommand: redo });
    return run.run('gen', { settings: {} }, async (ctx) => {
      const writer = await ShardedTensorWriter.open(join(ctx.dir, 'emb'), { kind: 'image-embeddings', tensors: { e: { dtype: 'F32', shape: [4] } }, shardSize: 2 });
      await writer.append(['a', 'b', 'c'], { e: new Float32Array(12).fill(0.5) });
      await writer.close();
      if (edit) {
        const file = join(ctx.dir, 'emb', 'manifest.json');
        const manifest = JSON.parse(await readFile(file, 'utf8'));
        edit(manifest);
        await writeFile(file, JSON.stringify(manifest));
      }
      return { outputs: ['gen/emb'] };
    });
  }

  it('should record the store manifest and every listed shard', async () => {
    const root = await tmp();
    const rec = await storeStage(root);
    expect(rec.files?.map((f) => f.path)).toEqual(['gen/emb/manifest.json', 'gen/emb/shard-00000.safetensors', 'gen/emb/shard-00001.safetensors']);
  });

  it('should refuse a store whose manifest is not complete', async () => {
    await expect(storeStage(await tmp(), (m) => (m.complete = false))).rejects.toThrow(/manifest\.json: the store is not complete .*--redo gen/);
  });

  it('should refuse a store whose manifest has a zeroed or wrong shard sha256', async () => {
    await expect(storeStage(await tmp(), (m) => (m.shards[0].sha256 = '0'.repeat(64)))).rejects.toThrow(/shard shard-00000\.safetensors has no valid sha256/);
    await expect(storeStage(await tmp(), (m) => (m.shards[1].sha256 = 'ab'.repeat(32)))).rejects.toThrow(/shard-00001\.safetensors: does not match the sha256 its store manifest records/);
  });
});
