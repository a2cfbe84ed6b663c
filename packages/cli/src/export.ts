import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigurationError,
  InvalidInputError,
  readJsonlAll,
  readSafetensors,
  serializeSafetensors,
  writeJsonAtomic,
  type TensorToWrite,
} from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer } from '@synth2/generator';
import { CaptioningVLM } from '@synth2/vlm';
import { z } from 'zod';
import { SplitItemSchema } from './stages/context';

/** `export.json` of an exported studio folder. */
export const EXPORT_FORMAT = 'synth2-studio-export';
export const EXPORT_MANIFEST = 'export.json';

/** The models an export carries: folder name in the run (`<name>/model`) → folder in the export (`models/<name>`). */
export const EXPORTED_MODELS = ['tokenizer', 'generator', 'vlm-baseline', 'vlm-synth2'] as const;
export type ExportedModel = (typeof EXPORTED_MODELS)[number];

export interface ModelExport {
  path: string;
  /** Storage of the float tensors: F16 when the float16 copy passed its check, else F32. */
  dtype: 'F16' | 'F32';
  /** What the float16 check compared and found (or why float16 was not tried). */
  check: string;
  bytes: number;
}

export interface TestImageItem {
  /** Row in `test-images/images.safetensors`. */
  index: number;
  imageId: string;
  captions: string[];
  heldOut: boolean;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  version: 1;
  createdAt: string;
  run: { dir: string; runId?: string; seed?: number };
  models: Record<ExportedModel, ModelExport>;
  testImages: { path: string; items: string; count: number; heldOut: number; imageSize: number };
  results: string;
  vocabularies: Record<string, string>;
  /** Every file this export wrote (relative, `/`-separated): a later export into the same folder replaces exactly these. */
  files: string[];
}

const ExportManifestSchema = z.object({ format: z.literal(EXPORT_FORMAT), files: z.array(z.string()) }).passthrough();

export interface ExportRunOptions {
  /** The run directory (written by `synth2 run`). */
  run: string;
  /** The folder to write: absent, empty, or a previous export (its files are replaced; other files are kept). */
  out: string;
  /** The built studio page (default: the one shipped beside the CLI, else the monorepo's `examples/studio/dist`). */
  studio?: string;
  /** Test images to include (default 24; held-out ones first). */
  testImages?: number;
  /** `auto` (default): float16 where the check passes; `never`: float32 everywhere. */
  float16?: 'auto' | 'never';
  log?: (message: string) => void;
}

/** Where the built studio page is looked for when `studio` is not given. */
export function defaultStudioDirs(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', 'studio'), join(here, '..', '..', '..', 'examples', 'studio', 'dist')];
}

function findStudio(studio: string | undefined): string {
  const candidates = studio ? [resolve(studio)] : defaultStudioDirs();
  for (const dir of candidates) if (existsSync(join(dir, 'index.html'))) return dir;
  throw new ConfigurationError(
    studio
      ? `--studio ${studio} has no index.html; build the studio page (npm run build -w examples/studio) and pass its dist folder.`
      : `the built studio page was not found (looked in ${candidates.join(', ')}); build it with \`npm run build -w examples/studio\` or pass --studio <dir>.`,
    { setting: 'studio' },
  );
}

function requireRunFiles(run: string): void {
  const needed = [
    ...EXPORTED_MODELS.map((m) => join(m, 'model', 'model.safetensors')),
    join('data', 'test.images.safetensors'),
    join('data', 'test.jsonl'),
    'results.json',
  ];
  const missing = needed.filter((f) => !existsSync(join(run, f)));
  if (missing.length) {
    throw new ConfigurationError(
      `${run} is not a finished run: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing. Finish it with \`synth2 run --out ${run}\` first.`,
      { setting: 'run' },
    );
  }
}

/** The previous export's file list when `out` is one, [] when `out` is absent or empty; refuses anything else. */
async function previousExportFiles(out: string): Promise<string[]> {
  if (!existsSync(out)) return [];
  if (!(await stat(out)).isDirectory()) throw new ConfigurationError(`--out ${out} is a file; pass a folder.`, { setting: 'out' });
  const entries = await readdir(out);
  if (entries.length === 0) return [];
  const manifest = join(out, EXPORT_MANIFEST);
  const parsed = existsSync(manifest) ? ExportManifestSchema.safeParse(JSON.parse(await readFile(manifest, 'utf8').catch(() => 'null'))) : undefined;
  if (!parsed?.success) {
    throw new ConfigurationError(
      `--out ${out} is not empty and is not a previous studio export (no valid ${EXPORT_MANIFEST}); nothing was written. Pass a new or empty folder.`,
      { setting: 'out' },
    );
  }
  return parsed.data.files;
}

async function copyTree(from: string, to: string, files: string[], prefix = ''): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await copyTree(join(from, entry.name), join(to, entry.name), files, rel);
    else if (entry.isFile()) {
      await copyFile(join(from, entry.name), join(to, entry.name));
      files.push(rel);
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** The model's safetensors with every F32 tensor stored as F16 (other dtypes as they are). */
async function halfPrecision(file: string): Promise<Uint8Array> {
  const full = await readSafetensors(file);
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(full.tensors)) tensors[name] = { dtype: t.dtype === 'F32' ? 'F16' : t.dtype, shape: t.shape, data: t.data };
  return concat(serializeSafetensors(tensors, full.metadata));
}

interface CheckInputs {
  /** Test images as floats in [0, 1], `[N, S, S, 3]`. */
  images: { data: Float32Array; shape: [number, number, number, number] };
  captions: string[];
}

/** Fraction of equal entries. */
function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return a.length ? same / a.length : 1;
}

/** Runs a model's float32 and float16 copies on the check inputs: whether float16 stays within tolerance, and what was seen. */
type HalfCheck = (full: string, half: { config: unknown; weights: Uint8Array }, inputs: CheckInputs, tokenizerDir: string) => Promise<{ ok: boolean; check: string }>;

const tokenizerCheck: HalfCheck = async (full, half, inputs) => {
  const [a, b] = [await VQTokenizer.load(full), await VQTokenizer.load(half)];
  try {
    const [ia, ib] = [a.encode(inputs.images), b.encode(inputs.images)];
    const same = agreement(await ia.data(), await ib.data());
    const [pa, pb] = [a.decode(ia), b.decode(ia)];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(pa, pb))).dataSync()[0]);
    tf.dispose([ia, ib, pa, pb]);
    return { ok: same === 1 && diff <= 2 / 255, check: `codes of ${inputs.images.shape[0]} test images ${(same * 100).toFixed(1)}% equal (need 100%); decoded pixels differ by ≤ ${diff.toExponential(2)} (need ≤ 2/255)` };
  } finally {
    a.dispose();
    b.dispose();
  }
};

const generatorCheck: HalfCheck = async (full, half, inputs) => {
  const [a, b] = [await CaptionTokenGenerator.load(full), await CaptionTokenGenerator.load(half)];
  const known = (caption: string) => {
    try {
      a.encodeCaptions([caption]);
      return true;
    } catch {
      return false;
    }
  };
  const captions = inputs.captions.filter(known).slice(0, 8);
  if (!captions.length) return { ok: false, check: 'no test caption uses only words the generator knows; kept float32' };
  const [ta, tb] = [await a.generateTokens(captions, { seed: 0 }), await b.generateTokens(captions, { seed: 0 })];
  const same = agreement(await ta.data(), await tb.data());
  tf.dispose([ta, tb]);
  return { ok: same >= 0.95, check: `tokens sampled for ${captions.length} test captions (seed 0) ${(same * 100).toFixed(1)}% equal (need ≥ 95%)` };
};

const vlmCheck: HalfCheck = async (full, half, inputs, tokenizerDir) => {
  const tokenizer = await VQTokenizer.load(tokenizerDir);
  const [a, b] = [await CaptioningVLM.load(full), await CaptioningVLM.load(half)];
  try {
    const emb = tf.tidy(() => tokenizer.embed(tokenizer.encode(inputs.images)));
    const data = { data: (await emb.data()) as Float32Array, shape: emb.shape as [number, number, number] };
    emb.dispose();
    const [ca, cb] = [await a.caption(data), await b.caption(data)];
    const same = ca.filter((c, i) => c === cb[i]).length;
    return { ok: same === ca.length, check: `greedy captions of ${ca.length} test images: ${same} identical (need all)` };
  } finally {
    tokenizer.dispose();
    a.dispose();
    b.dispose();
  }
};

const HALF_CHECKS: Record<ExportedModel, HalfCheck> = {
  tokenizer: tokenizerCheck,
  generator: generatorCheck,
  'vlm-baseline': vlmCheck,
  'vlm-synth2': vlmCheck,
};

async function readTestImages(run: string, count: number): Promise<{ items: TestImageItem[]; pixels: Uint8Array; shape: [number, number, number, number] }> {
  const records = await readJsonlAll(join(run, 'data', 'test.jsonl'), SplitItemSchema);
  const t = (await readSafetensors(join(run, 'data', 'test.images.safetensors'))).tensors.images;
  if (!t || t.dtype !== 'U8' || t.shape.length !== 4 || t.shape[0] !== records.length) {
    throw new InvalidInputError(`expected a U8 tensor "images" [${records.length}, S, S, 3] matching test.jsonl; rerun the data stage.`, {
      file: join(run, 'data', 'test.images.safetensors'),
    });
  }
  const order = records.map((_, i) => i).sort((i, j) => Number(!!records[j].meta?.heldOut) - Number(!!records[i].meta?.heldOut) || i - j);
  const picked = order.slice(0, Math.max(1, count));
  const [, S, , C] = t.shape;
  const per = S * S * C;
  const pixels = new Uint8Array(picked.length * per);
  picked.forEach((src, k) => pixels.set((t.data as Uint8Array).subarray(src * per, (src + 1) * per), k * per));
  const items = picked.map((src, index) => ({ index, imageId: records[src].imageId, captions: records[src].captions, heldOut: !!records[src].meta?.heldOut }));
  return { items, pixels, shape: [picked.length, S, S, C] };
}

async function writeModel(
  name: ExportedModel,
  run: string,
  tmp: string,
  inputs: CheckInputs,
  float16: boolean,
  files: string[],
): Promise<ModelExport> {
  const from = join(run, name, 'model');
  const path = `models/${name}`;
  await mkdir(join(tmp, path), { recursive: true });
  const configText = await readFile(join(from, 'config.json'), 'utf8');
  await writeFile(join(tmp, path, 'config.json'), configText);
  let dtype: ModelExport['dtype'] = 'F32';
  let check = 'float16 not requested (--float16 never)';
  let weights: Uint8Array = await readFile(join(from, 'model.safetensors'));
  if (float16) {
    const half = await halfPrecision(join(from, 'model.safetensors'));
    const result = await HALF_CHECKS[name](from, { config: JSON.parse(configText), weights: half }, inputs, join(run, 'tokenizer', 'model'));
    check = result.check;
    if (result.ok) {
      dtype = 'F16';
      weights = half;
    }
  }
  await writeFile(join(tmp, path, 'model.safetensors'), weights);
  files.push(`${path}/config.json`, `${path}/model.safetensors`);
  return { path, dtype, check, bytes: weights.byteLength };
}

async function writeVocabularies(tmp: string, files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await mkdir(join(tmp, 'vocabularies'), { recursive: true });
  for (const name of ['generator', 'vlm-baseline', 'vlm-synth2'] as const) {
    const config = JSON.parse(await readFile(join(tmp, 'models', name, 'config.json'), 'utf8'));
    const vocabulary = name === 'generator' ? config.generator?.vocabulary : config.vocabulary;
    if (!vocabulary) continue;
    const path = `vocabularies/${name}.json`;
    await writeFile(join(tmp, path), `${JSON.stringify(vocabulary)}\n`);
    files.push(path);
    out[name] = path;
  }
  return out;
}

/** Removes the files a previous export wrote (and the folders they leave empty); other files stay. */
async function removePreviousExport(out: string, files: string[]): Promise<void> {
  const root = resolve(out);
  const dirs = new Set<string>();
  for (const rel of files) {
    const file = resolve(root, rel);
    if (!file.startsWith(root + sep)) continue; // a manifest entry outside the folder is never touched
    await rm(file, { force: true });
    for (let d = dirname(file); d.startsWith(root + sep); d = dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
}

async function moveInto(tmp: string, out: string, files: string[]): Promise<void> {
  for (const rel of files) {
    await mkdir(dirname(join(out, rel)), { recursive: true });
    await rename(join(tmp, rel), join(out, rel));
  }
}

/**
 * `synth2 export`: writes a self-contained static folder that runs the run's models in a browser — the built studio
 * page, the tokenizer, generator and both VLM checkpoints (float16 where its check passes), their vocabularies,
 * test images and `results.json`. The folder is built beside `out` and moved in; `export.json` is written last.
 */
export async function exportRun(options: ExportRunOptions): Promise<ExportManifest> {
  const log = options.log ?? (() => {});
  const run = resolve(options.run);
  const out = resolve(options.out);
  requireRunFiles(run);
  const studio = findStudio(options.studio);
  const previous = await previousExportFiles(out);
  const tmp = join(dirname(out), `.${basename(out)}.export-${randomBytes(4).toString('hex')}`);
  const files: string[] = [];
  try {
    await copyTree(studio, tmp, files);
    const test = await readTestImages(run, options.testImages ?? 24);
    const chunks = serializeSafetensors({ images: { dtype: 'U8', shape: test.shape, data: test.pixels } });
    await mkdir(join(tmp, 'test-images'), { recursive: true });
    await writeFile(join(tmp, 'test-images', 'images.safetensors'), concat(chunks));
    await writeFile(join(tmp, 'test-images', 'items.json'), `${JSON.stringify(test.items, null, 1)}\n`);
    files.push('test-images/images.safetensors', 'test-images/items.json');
    await copyFile(join(run, 'results.json'), join(tmp, 'results.json'));
    files.push('results.json');

    await initBackend({ log: () => {} });
    const inputs: CheckInputs = {
      images: { data: Float32Array.from(test.pixels, (v) => v / 255), shape: test.shape },
      captions: test.items.flatMap((it) => it.captions),
    };
    const models = {} as Record<ExportedModel, ModelExport>;
    for (const name of EXPORTED_MODELS) {
      models[name] = await writeModel(name, run, tmp, inputs, options.float16 !== 'never', files);
      log(`export: ${name} ${models[name].dtype} (${(models[name].bytes / 1024).toFixed(0)} KiB): ${models[name].check}`);
    }
    const vocabularies = await writeVocabularies(tmp, files);
    const runManifest = existsSync(join(run, 'manifest.json')) ? JSON.parse(await readFile(join(run, 'manifest.json'), 'utf8')) : {};
    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      version: 1,
      createdAt: new Date().toISOString(),
      run: { dir: relative(out, run) || '.', runId: runManifest.runId, seed: runManifest.seed },
      models,
      testImages: {
        path: 'test-images/images.safetensors',
        items: 'test-images/items.json',
        count: test.items.length,
        heldOut: test.items.filter((it) => it.heldOut).length,
        imageSize: test.shape[1],
      },
      results: 'results.json',
      vocabularies,
      files: [...files, EXPORT_MANIFEST],
    };
    if (previous.length) await removePreviousExport(out, previous);
    await mkdir(out, { recursive: true });
    await moveInto(tmp, out, files);
    await writeJsonAtomic(join(out, EXPORT_MANIFEST), manifest);
    return manifest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
