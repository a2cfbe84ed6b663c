import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { EmbeddingShardManifestSchema, InvalidInputError, SHARD_MANIFEST_FILE, sha256File } from '@synth2/core';
import { z } from 'zod';

/** One file a stage wrote: its path relative to the run directory, its size and its SHA-256. */
export const StageFileSchema = z.object({
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type StageFile = z.infer<typeof StageFileSchema>;

/** Says how to redo a stage (and the stages after it), e.g. `synth2 run --out runs/x --redo generate`. */
export type RedoCommand = (stage: string) => string;

/** The error for a stage output that is missing, changed, or not what the stage should have written. */
export function stageOutputError(file: string, problem: string, stage: string, redo: RedoCommand): InvalidInputError {
  return new InvalidInputError(`${problem}. Redo the ${stage} stage (and the stages after it): ${redo(stage)}`, { file });
}

/** Absolute path of `rel` inside `root`; an output path that climbs out of the run directory is refused. */
function inside(root: string, rel: string): string {
  const abs = resolve(root, rel);
  const back = relative(root, abs);
  if (isAbsolute(rel) || back === '..' || back.startsWith(`..${sep}`)) {
    throw new InvalidInputError(`stage output "${rel}" is outside the run directory.`, { file: root });
  }
  return abs;
}

const isTemporary = (name: string) => name.endsWith('.tmp');

/** Every regular file under `dir` (sorted, temporaries left out), as paths relative to `root`. */
async function listFiles(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(root, abs)));
    else if (e.isFile() && !isTemporary(e.name)) out.push(relative(root, abs).split(sep).join('/'));
  }
  return out;
}

/**
 * A sharded tensor store as the stage left it: its manifest must say `complete` and list, for every shard, a sha256
 * that is the shard file's real one (a zeroed or wrong hash is refused). Returns the store's files with their hashes.
 */
async function sealedStore(root: string, dir: string, stage: string, redo: RedoCommand): Promise<StageFile[]> {
  const manifestPath = join(dir, SHARD_MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch {
    json = undefined;
  }
  const parsed = EmbeddingShardManifestSchema.safeParse(json);
  if (!parsed.success) throw stageOutputError(manifestPath, 'not a valid sharded-store manifest', stage, redo);
  const manifest = parsed.data;
  if (!manifest.complete) {
    throw stageOutputError(manifestPath, `the store is not complete (${manifest.total} items so far): its writer did not finish`, stage, redo);
  }
  const files: StageFile[] = [];
  for (const shard of manifest.shards) {
    const file = inside(dir, shard.file);
    if (!/^[0-9a-f]{64}$/.test(shard.sha256 ?? '') || /^0+$/.test(shard.sha256 ?? '')) {
      throw stageOutputError(manifestPath, `shard ${shard.file} has no valid sha256 in the store manifest`, stage, redo);
    }
    const actual = await hashOrMissing(file, stage, redo);
    if (actual.sha256 !== shard.sha256 || (shard.bytes !== undefined && actual.bytes !== shard.bytes)) {
      throw stageOutputError(file, `does not match the sha256 its store manifest records (the shard changed after it was written)`, stage, redo);
    }
    files.push({ path: relative(root, file).split(sep).join('/'), ...actual });
  }
  const self = await sha256File(manifestPath);
  files.unshift({ path: relative(root, manifestPath).split(sep).join('/'), ...self });
  return files;
}

async function hashOrMissing(file: string, stage: string, redo: RedoCommand) {
  try {
    return await sha256File(file);
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') {
      throw stageOutputError(file, `missing: the ${stage} stage wrote it and it has been deleted or moved since`, stage, redo);
    }
    throw error;
  }
}

async function isShardStore(dir: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(join(dir, SHARD_MANIFEST_FILE), 'utf8')) as { format?: unknown };
    return json?.format === 'synth2-shards';
  } catch {
    return false;
  }
}

/**
 * Hashes what a stage wrote (`outputs`: files or folders relative to the run directory; a folder means every file in
 * it, a sharded store its manifest and listed shards after checking them). Streaming SHA-256, constant memory.
 */
export async function hashStageOutputs(root: string, stage: string, outputs: readonly string[], redo: RedoCommand): Promise<StageFile[]> {
  const files: StageFile[] = [];
  for (const rel of outputs) {
    const abs = inside(root, rel);
    const info = await stat(abs).catch(() => undefined);
    if (!info) throw stageOutputError(abs, `missing: the ${stage} stage lists it as an output but it is not there`, stage, redo);
    if (info.isDirectory()) {
      if (await isShardStore(abs)) files.push(...(await sealedStore(root, abs, stage, redo)));
      else for (const path of await listFiles(root, abs)) files.push({ path, ...(await sha256File(join(root, path))) });
    } else {
      files.push({ path: relative(root, abs).split(sep).join('/'), ...(await sha256File(abs)) });
    }
  }
  return files;
}

/** Checks that every recorded file of a stage is there with the same size and SHA-256; the first difference throws. */
export async function verifyStageFiles(root: string, stage: string, files: readonly StageFile[], redo: RedoCommand): Promise<void> {
  for (const f of files) {
    const abs = inside(root, f.path);
    const actual = await hashOrMissing(abs, stage, redo);
    if (actual.bytes !== f.bytes || actual.sha256 !== f.sha256) {
      throw stageOutputError(
        abs,
        `changed since the ${stage} stage wrote it (sha256 ${actual.sha256.slice(0, 12)}… now, ${f.sha256.slice(0, 12)}… recorded in the run manifest)`,
        stage,
        redo,
      );
    }
  }
}
