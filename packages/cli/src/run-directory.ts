import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError, RunManifestSchema, StageRecordSchema } from '@synth2/core';
import { z } from 'zod';
import { StageFileSchema, hashStageOutputs, verifyStageFiles, type RedoCommand } from './stage-files';

/** A stage's record in the run manifest, with the size and SHA-256 of every file it wrote (`files`). */
const CliStageRecordSchema = StageRecordSchema.extend({ files: z.array(StageFileSchema).optional() });
export type StageRecord = z.infer<typeof CliStageRecordSchema>;

/** `manifest.json` of a run directory (the core run manifest, with the stages' file hashes). */
const CliRunManifestSchema = RunManifestSchema.extend({ stages: z.record(z.string(), CliStageRecordSchema).default({}) });
export type RunManifest = z.infer<typeof CliRunManifestSchema>;

const MANIFEST = 'manifest.json';

/** Stable hash of any JSON-serialisable value (keys sorted). */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, 16);
}

function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

/** What a stage is given when it runs: its folder and whether it resumes. */
export interface StageContext {
  /** Absolute path of the stage's own folder inside the run directory. */
  dir: string;
  /** Whether an earlier attempt of this stage (same settings) was interrupted: resume from its files. */
  resuming: boolean;
}

/** What a finished stage reports: its outputs and a summary. */
export interface StageOutcome {
  /** What the stage wrote, relative to the run directory (files or folders): hashed into the run manifest. */
  outputs?: string[];
  summary?: Record<string, unknown>;
}

/** An event of a run's stages: skipped, started, done or failed. */
export type StageEvent =
  | { type: 'stage-skip'; stage: string; reason: string }
  | { type: 'stage-start'; stage: string; resuming: boolean; reason: string }
  | { type: 'stage-done'; stage: string; seconds: number; summary: Record<string, unknown> }
  | { type: 'stage-failed'; stage: string; error: string };

export interface RunDirectoryInit {
  config: Record<string, unknown>;
  seed: number;
  backend?: string;
  /** How to redo a stage, for error messages (default: `synth2 run --out <root> --redo <stage>`). */
  redoCommand?: RedoCommand;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const defaultRedo = (root: string): RedoCommand => (stage) => `synth2 run --out ${root} --redo ${stage}`;

/**
 * A run directory: `manifest.json` plus one folder per stage. A stage is skipped when it finished before with the
 * same settings hash (which includes the hashes of the stages it depends on), resumed when it was interrupted,
 * and rerun — with everything after it — when its settings changed.
 *
 * It owns only what it wrote: a folder is a run directory when it holds a run manifest, a new run starts only in a
 * missing or empty folder, and a stage folder is only ever emptied when the manifest records that the run made it.
 * Every stage's output files are recorded with their size and SHA-256 and checked before a later stage reads them.
 */
export class RunDirectory {
  private readOnly = false;

  private constructor(
    readonly root: string,
    private manifest: RunManifest,
    readonly redoCommand: RedoCommand,
  ) {}

  /**
   * Refuses a folder that is neither missing, empty, nor a run directory (it holds someone's files: a run there
   * could overwrite them). Cheap: call it before any long setup.
   */
  static async assertUsable(root: string): Promise<void> {
    const info = await stat(root).catch(() => undefined);
    if (!info) return;
    if (!info.isDirectory()) {
      throw new InvalidInputError('--out is a file, not a folder. Pick a new folder for the run (e.g. runs/my-run).', { file: root });
    }
    if ((await readText(join(root, MANIFEST))) !== undefined) return;
    const entries = await readdir(root);
    if (entries.length) {
      const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', …' : '');
      throw new InvalidInputError(
        `this folder is not empty (${shown}) and is not a Synth² run directory (no ${MANIFEST}). synth2 writes only into a new or empty folder or a run directory it made, so that it never overwrites your files. Pick a new folder with --out (e.g. --out ${join(root, 'synth2-run')}).`,
        { file: root },
      );
    }
  }

  static async open(root: string, init: RunDirectoryInit): Promise<RunDirectory> {
    await RunDirectory.assertUsable(root);
    await mkdir(root, { recursive: true });
    const file = join(root, MANIFEST);
    const text = await readText(file);
    let manifest: RunManifest;
    if (text !== undefined) {
      manifest = parseManifest(text, file);
      manifest.config = init.config;
      manifest.seed = init.seed;
      if (init.backend) manifest.backend = init.backend;
    } else {
      const now = new Date().toISOString();
      manifest = {
        format: 'synth2-run',
        version: 1,
        runId: randomUUID(),
        createdAt: now,
        updatedAt: now,
        seed: init.seed,
        config: init.config,
        backend: init.backend,
        stages: {},
      };
    }
    const run = new RunDirectory(root, manifest, init.redoCommand ?? defaultRedo(root));
    await run.save();
    return run;
  }

  /** A read-only view of an existing run (for a stage running in a child process; never writes the manifest). */
  static async view(root: string): Promise<RunDirectory> {
    const file = join(root, MANIFEST);
    const text = await readText(file);
    if (text === undefined) throw new InvalidInputError('no run manifest here: not a Synth² run directory.', { file });
    const view = new RunDirectory(root, parseManifest(text, file), defaultRedo(root));
    view.readOnly = true;
    return view;
  }

  get data(): RunManifest {
    return this.manifest;
  }

  stageDir(stage: string): string {
    return join(this.root, stage);
  }

  stage(stage: string): StageRecord | undefined {
    return this.manifest.stages[stage];
  }

  /** The settings hash a stage gets from its own settings and its dependencies' hashes. */
  hashFor(settings: unknown, dependsOn: readonly string[]): string {
    const deps = dependsOn.map((d) => {
      const rec = this.manifest.stages[d];
      if (!rec || rec.status !== 'done') throw new Error(`internal: stage ${d} must be done before its dependants`);
      return [d, rec.configHash];
    });
    return stableHash({ settings, deps });
  }

  /**
   * Marks stages to be redone (`--redo`): the next run of each starts from an empty folder, whatever its settings.
   * Their records stay (as `pending`), so the run still knows it made their folders.
   */
  async redo(stages: readonly string[]): Promise<void> {
    for (const stage of stages) {
      const rec = this.manifest.stages[stage];
      if (rec) this.manifest.stages[stage] = { ...rec, status: 'pending', files: undefined, error: undefined };
    }
    await this.save();
  }

  /**
   * Checks that a finished stage's files are as it wrote them (size and SHA-256 against the run manifest); a missing
   * or changed file throws an error naming it and the command that redoes the stage. A stage recorded by an older
   * version, without hashes, gets them now (its outputs must exist). `only`: check just the files at or under this
   * path (relative to the run directory), e.g. `generate/gallery.json`.
   */
  async verify(stage: string, only?: string): Promise<void> {
    const rec = this.manifest.stages[stage];
    if (!rec || rec.status !== 'done') throw new Error(`internal: stage ${stage} must be done before it is verified`);
    if (rec.files) {
      const files = only ? rec.files.filter((f) => f.path === only || f.path.startsWith(`${only}/`)) : rec.files;
      await verifyStageFiles(this.root, stage, files, this.redoCommand);
      return;
    }
    // a read-only view cannot record them: it checks that the outputs are there
    const files = await hashStageOutputs(this.root, stage, rec.outputs, this.redoCommand);
    if (this.readOnly) return;
    this.manifest.stages[stage] = { ...rec, files };
    await this.save();
  }

  async run(
    stage: string,
    options: {
      settings: unknown;
      dependsOn?: readonly string[];
      /**
       * What this stage reads, verified before it starts: finished stages (all their files) or paths inside them
       * (`generate/gallery.json`: that file only).
       */
      reads?: readonly string[];
      onEvent?: (e: StageEvent) => void;
    },
    body: (ctx: StageContext) => Promise<StageOutcome | void>,
  ): Promise<StageRecord> {
    const configHash = this.hashFor(options.settings, options.dependsOn ?? []);
    const prev = this.manifest.stages[stage];
    if (prev && prev.status === 'done' && prev.configHash === configHash) {
      await this.verify(stage);
      options.onEvent?.({ type: 'stage-skip', stage, reason: 'finished earlier with the same settings (files verified)' });
      return this.manifest.stages[stage];
    }
    for (const input of options.reads ?? []) await this.verify(input.split('/')[0], input.includes('/') ? input : undefined);
    const resuming = !!prev && prev.configHash === configHash && (prev.status === 'running' || prev.status === 'failed');
    const reason = !prev
      ? 'first run'
      : prev.status === 'pending'
        ? 'redo'
        : resuming
          ? 'resuming an interrupted run'
          : prev.configHash !== configHash
            ? 'settings or inputs changed'
            : 'rerun';
    const dir = this.stageDir(stage);
    // a stage folder the manifest has no record of was not made by this run: it is never emptied or written into
    if (!prev && (await stat(dir).catch(() => undefined))) {
      throw new InvalidInputError(
        `the run manifest has no record of the ${stage} stage, but its folder exists: synth2 did not make it and will not overwrite it. Move it out of the run directory, then run the command again.`,
        { file: dir },
      );
    }
    options.onEvent?.({ type: 'stage-start', stage, resuming, reason });
    const started = Date.now();
    this.manifest.stages[stage] = {
      status: 'running',
      configHash,
      startedAt: new Date(started).toISOString(),
      outputs: [],
      summary: {},
    };
    await this.save();
    // only an interrupted attempt with the same settings may continue from its files; anything else (old settings,
    // an older version's checkpoints, --redo) would be resumed by mistake, so the stage starts from an empty folder —
    // one the manifest records this run made
    if (!resuming && prev) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      const outcome = (await body({ dir, resuming })) ?? {};
      const outputs = outcome.outputs ?? [];
      const files = await hashStageOutputs(this.root, stage, outputs, this.redoCommand);
      const seconds = (Date.now() - started) / 1000;
      const summary = { ...(outcome.summary ?? {}), seconds };
      this.manifest.stages[stage] = {
        status: 'done',
        configHash,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date().toISOString(),
        outputs,
        files,
        summary,
      };
      await this.save();
      options.onEvent?.({ type: 'stage-done', stage, seconds, summary });
      return this.manifest.stages[stage];
    } catch (error) {
      this.manifest.stages[stage] = {
        ...this.manifest.stages[stage],
        status: 'failed',
        error: (error as Error).message,
      };
      await this.save();
      options.onEvent?.({ type: 'stage-failed', stage, error: (error as Error).message });
      throw error;
    }
  }

  async save(): Promise<void> {
    if (this.readOnly) throw new Error('internal: a read-only run view cannot save the manifest');
    this.manifest.updatedAt = new Date().toISOString();
    await writeAtomic(join(this.root, MANIFEST), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  async writeJson(relPath: string, value: unknown): Promise<void> {
    await writeAtomic(join(this.root, relPath), `${JSON.stringify(value, null, 2)}\n`);
  }

  async writeText(relPath: string, text: string): Promise<void> {
    await writeAtomic(join(this.root, relPath), text);
  }
}

function parseManifest(text: string, file: string): RunManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(
      `the run manifest is not valid JSON (${(error as Error).message}). Pick another --out (synth2 never deletes a folder it cannot tell is its own).`,
      { file, cause: error },
    );
  }
  const parsed = CliRunManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`this is not a Synth² run manifest (${issue.path.join('.')}: ${issue.message}). Pick another --out.`, { file });
  }
  return parsed.data;
}

export { writeAtomic, writeFile };
