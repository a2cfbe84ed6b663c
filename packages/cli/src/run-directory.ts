import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError, RunManifestSchema, type RunManifest, type StageRecord } from '@synth2/core';

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

export interface StageContext {
  /** Absolute path of the stage's own folder inside the run directory. */
  dir: string;
  /** Whether an earlier attempt of this stage (same settings) was interrupted: resume from its files. */
  resuming: boolean;
}

export interface StageOutcome {
  outputs?: string[];
  summary?: Record<string, unknown>;
}

export type StageEvent =
  | { type: 'stage-skip'; stage: string; reason: string }
  | { type: 'stage-start'; stage: string; resuming: boolean; reason: string }
  | { type: 'stage-done'; stage: string; seconds: number; summary: Record<string, unknown> }
  | { type: 'stage-failed'; stage: string; error: string };

/**
 * A run directory: `manifest.json` plus one folder per stage. A stage is skipped when it finished before with the
 * same settings hash (which includes the hashes of the stages it depends on), resumed when it was interrupted,
 * and rerun — with everything after it — when its settings changed.
 */
export class RunDirectory {
  private constructor(
    readonly root: string,
    private manifest: RunManifest,
  ) {}

  static async open(root: string, init: { config: Record<string, unknown>; seed: number; backend?: string }): Promise<RunDirectory> {
    await mkdir(root, { recursive: true });
    const file = join(root, 'manifest.json');
    let manifest: RunManifest;
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new InvalidInputError(
          `the run manifest is not valid JSON (${(error as Error).message}). Delete the run directory or pick another --out.`,
          { file, cause: error },
        );
      }
      const parsed = RunManifestSchema.safeParse(json);
      if (!parsed.success) {
        throw new InvalidInputError(
          `this is not a Synth² run manifest (${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}). Pick another --out.`,
          { file },
        );
      }
      manifest = parsed.data;
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
    const run = new RunDirectory(root, manifest);
    await run.save();
    return run;
  }

  /** A read-only view of an existing run (for a stage running in a child process; never writes the manifest). */
  static async view(root: string): Promise<RunDirectory> {
    const file = join(root, 'manifest.json');
    const parsed = RunManifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new InvalidInputError('this is not a Synth² run manifest.', { file });
    const view = new RunDirectory(root, parsed.data);
    view.readOnly = true;
    return view;
  }

  private readOnly = false;

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

  async run(
    stage: string,
    options: { settings: unknown; dependsOn?: readonly string[]; onEvent?: (e: StageEvent) => void },
    body: (ctx: StageContext) => Promise<StageOutcome | void>,
  ): Promise<StageRecord> {
    const configHash = this.hashFor(options.settings, options.dependsOn ?? []);
    const prev = this.manifest.stages[stage];
    if (prev && prev.status === 'done' && prev.configHash === configHash) {
      options.onEvent?.({ type: 'stage-skip', stage, reason: 'finished earlier with the same settings' });
      return prev;
    }
    const resuming = !!prev && prev.configHash === configHash && (prev.status === 'running' || prev.status === 'failed');
    const reason = !prev
      ? 'first run'
      : resuming
        ? 'resuming an interrupted run'
        : prev.configHash !== configHash
          ? 'settings or inputs changed'
          : 'rerun';
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
    const dir = this.stageDir(stage);
    // only an interrupted attempt with the same settings may continue from its files; anything else (old settings,
    // an older version's checkpoints) would be resumed by mistake, so the stage starts from an empty folder
    if (!resuming) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      const outcome = (await body({ dir, resuming })) ?? {};
      const seconds = (Date.now() - started) / 1000;
      const summary = { ...(outcome.summary ?? {}), seconds };
      this.manifest.stages[stage] = {
        status: 'done',
        configHash,
        startedAt: new Date(started).toISOString(),
        finishedAt: new Date().toISOString(),
        outputs: outcome.outputs ?? [],
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
    await writeAtomic(join(this.root, 'manifest.json'), `${JSON.stringify(this.manifest, null, 2)}\n`);
  }

  async writeJson(relPath: string, value: unknown): Promise<void> {
    await writeAtomic(join(this.root, relPath), `${JSON.stringify(value, null, 2)}\n`);
  }

  async writeText(relPath: string, text: string): Promise<void> {
    await writeAtomic(join(this.root, relPath), text);
  }
}

export { writeAtomic, writeFile };
