import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConceptInventorySchema,
  ImageCaptionPairSchema,
  readJson,
  readJsonlAll,
  type ConceptInventory,
} from '@synth2/core';
import { ShapesItemMetaSchema, ShapesSplitManifestSchema } from '@synth2/datasets';
import { VQTokenizer } from '@synth2/generator';
import { tf } from '@synth2/nn';
import { z } from 'zod';
import { loadImages, loadTokens, type ImageSet } from '../artifacts';
import type { PipelineConfig, SplitName } from '../config';
import type { Reporter } from '../reporter';
import type { RunDirectory } from '../run-directory';

/** What every stage body gets: the config, the run, where to report, and the abort signal. */
export interface StageRunContext {
  config: PipelineConfig;
  run: RunDirectory;
  reporter: Reporter;
  abortSignal?: AbortSignal;
}

/** What a stage body returns: the outputs it wrote (relative to the run) and a summary for the manifest. */
export interface StageOutcomeBody {
  outputs?: string[];
  summary?: Record<string, unknown>;
}

/** One stage's work; `dir` is the stage's folder in the run. */
export type StageBody = (ctx: StageRunContext, dir: string) => Promise<StageOutcomeBody>;

/** A path inside the run directory. */
export const runPath = (ctx: StageRunContext, ...parts: string[]): string => join(ctx.run.root, ...parts);

/** A training progress callback that reports as `stage`. */
export function trainingProgress(ctx: StageRunContext, stage: string, unit = 'steps') {
  return (e: { step: number; steps: number; loss?: number }) =>
    ctx.reporter.progress({
      stage,
      done: e.step,
      total: e.steps,
      unit,
      info: e.loss !== undefined ? { loss: e.loss } : undefined,
    });
}

/** A JSON file another stage wrote, read through its schema (a malformed file names the file and field); none if absent. */
export async function readJsonFileIfExists<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<z.output<S> | undefined> {
  return existsSync(file) ? readJson(file, schema) : undefined;
}

/** What the tokenizer and generator trainers get from the run: seed, checkpoints, metrics file, progress, abort. */
export function trainerRunOptions(ctx: StageRunContext, dir: string, stage: string, checkpointEvery: number) {
  return {
    seed: ctx.config.seed,
    checkpointDir: join(dir, 'trainer'),
    checkpointEvery,
    metricsFile: join(dir, 'metrics.jsonl'),
    onProgress: trainingProgress(ctx, stage),
    abortSignal: ctx.abortSignal,
    log: () => {},
  };
}

/** A split record as the data stage writes it: core's image–caption pair and, for the shapes world, its scene meta. */
export const SplitItemSchema = ImageCaptionPairSchema.extend({ meta: ShapesItemMetaSchema.optional() });
export type SplitItem = z.infer<typeof SplitItemSchema>;

/** A split's image–caption records as the data stage wrote them. */
export function readItems(ctx: StageRunContext, name: SplitName): Promise<SplitItem[]> {
  return readJsonlAll(runPath(ctx, 'data', `${name}.jsonl`), SplitItemSchema);
}

/** A split's records and images. */
export async function readSplit(
  ctx: StageRunContext,
  name: SplitName,
): Promise<{ items: SplitItem[]; images: ImageSet }> {
  return {
    items: await readItems(ctx, name),
    images: await loadImages(runPath(ctx, 'data', `${name}.images.safetensors`)),
  };
}

/** The shapes world's concept inventory (`data/inventory.json`); none for a folder of real data. */
export function readInventory(ctx: StageRunContext): Promise<ConceptInventory | undefined> {
  return readJsonFileIfExists(runPath(ctx, 'data', 'inventory.json'), ConceptInventorySchema);
}

/** The shapes world's split manifest (`data/splits.json`); none for a folder of real data. */
export function readSplitManifest(ctx: StageRunContext) {
  return readJsonFileIfExists(runPath(ctx, 'data', 'splits.json'), ShapesSplitManifestSchema);
}

export function loadTokenizer(ctx: StageRunContext): Promise<VQTokenizer> {
  return VQTokenizer.load(runPath(ctx, 'tokenizer', 'model'));
}

/** Codebook embeddings `[N, h·w, d]` of a split's cached tokens. */
export async function splitEmbeddings(ctx: StageRunContext, tokenizer: VQTokenizer, name: SplitName) {
  const tokens = await loadTokens(runPath(ctx, 'tokenizer', `${name}.tokens.safetensors`));
  const emb = tf.tidy(() => tokenizer.embed(tf.tensor3d(tokens.data, tokens.shape, 'int32')));
  const data = emb.dataSync() as Float32Array;
  const shape = emb.shape as [number, number, number];
  emb.dispose();
  return { data: new Float32Array(data), shape };
}

/** A split's records and the embeddings of its images. */
export async function realPairs(ctx: StageRunContext, tokenizer: VQTokenizer, name: SplitName) {
  return { items: await readItems(ctx, name), embeddings: await splitEmbeddings(ctx, tokenizer, name) };
}
export type RealPairsOf = Awaited<ReturnType<typeof realPairs>>;
