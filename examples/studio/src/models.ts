import { parseSafetensors, fetchBytes } from '@synth2/core';
import { BACKEND_NAMES, initBackend, tf, type BackendInfo, type BackendName } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer } from '@synth2/generator';
import { CaptioningVLM } from '@synth2/vlm';
import { gpuBackendLoaders } from './gpu-backends';

/** What `synth2 export` writes as `export.json` (the parts the page reads). */
export interface ExportManifest {
  format: 'synth2-studio-export';
  models: Record<'tokenizer' | 'generator' | 'vlm-baseline' | 'vlm-synth2', { path: string; dtype: string }>;
  testImages: { path: string; items: string; count: number; imageSize: number };
  results: string;
}

export interface TestImage {
  index: number;
  imageId: string;
  captions: string[];
  heldOut: boolean;
}

export interface StudioModels {
  manifest: ExportManifest;
  backend: BackendInfo;
  tokenizer: VQTokenizer;
  generator: CaptionTokenGenerator;
  vlms: { baseline: CaptioningVLM; synth2: CaptioningVLM };
  testImages: { items: TestImage[]; pixels: Uint8Array; size: number };
  results: unknown;
  /** Seconds from the start of loading to all four models ready (backend start included). */
  loadSeconds: number;
}

export interface SamplingSettings {
  samples: number;
  seed: number;
  steps: number;
  temperature: number;
  guidanceScale: number;
  choiceTemperature: number;
}

export interface Generation {
  caption: string;
  settings: SamplingSettings;
  /** Token ids `[samples, h, w]`, flattened. */
  tokens: number[];
  /** Embeddings `[samples, h·w, d]`, flattened. */
  embeddings: number[];
  /** RGB in [0, 1] per sample, `S×S×3`. */
  images: Float32Array[];
  size: number;
  seconds: number;
}

export interface Captions {
  embedding: number[];
  baseline: string;
  synth2: string;
  decode: 'greedy' | 'beam';
  seconds: number;
}

const now = () => performance.now() / 1000;

/** A backend name from the page's `?backend=` (`auto` or absent: undefined); anything else throws naming the choices. */
export function parseBackend(value: string | null): BackendName | undefined {
  if (value === null || value === '' || value === 'auto') return undefined;
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new Error(`?backend=${value} is not a backend; use auto or one of ${BACKEND_NAMES.join(', ')}`);
  }
  return value as BackendName;
}

/**
 * Loads the exported run from `base` (the export folder's URL): the backend (`backend`, else webgpu → webgl → wasm →
 * cpu, the first that starts), models, test images and results.
 */
export async function loadStudio(base: URL, backend?: BackendName): Promise<StudioModels> {
  const start = now();
  const url = (path: string) => new URL(path, base).href;
  const manifest = (await (await fetch(url('export.json'))).json()) as ExportManifest;
  if (manifest.format !== 'synth2-studio-export') throw new Error(`export.json is not a synth2 studio export (format ${JSON.stringify(manifest.format)})`);
  const info = await initBackend({ backend, wasmPaths: url('tfjs-wasm/'), loaders: gpuBackendLoaders });
  const [tokenizer, generator, baseline, synth2] = await Promise.all([
    VQTokenizer.load(url(manifest.models.tokenizer.path)),
    CaptionTokenGenerator.load(url(manifest.models.generator.path)),
    CaptioningVLM.load(url(manifest.models['vlm-baseline'].path)),
    CaptioningVLM.load(url(manifest.models['vlm-synth2'].path)),
  ]);
  const loadSeconds = now() - start;
  const [items, images, results] = await Promise.all([
    fetch(url(manifest.testImages.items)).then((r) => r.json() as Promise<TestImage[]>),
    fetchBytes(url(manifest.testImages.path), 'test images'),
    fetch(url(manifest.results)).then((r) => r.json()),
  ]);
  const pixels = parseSafetensors(images).tensors.images.data as Uint8Array;
  return {
    manifest,
    backend: info,
    tokenizer,
    generator,
    vlms: { baseline, synth2 },
    testImages: { items, pixels, size: manifest.testImages.imageSize },
    results,
    loadSeconds,
  };
}

/** Caption → `samples` token grids (one seed, a different draw per sample) → embeddings and decoded images. */
export async function generateSamples(models: StudioModels, caption: string, settings: SamplingSettings): Promise<Generation> {
  const start = now();
  const { samples, ...sampling } = settings;
  const captions = Array.from({ length: samples }, () => caption);
  const ids = await models.generator.generateTokens(captions, sampling);
  try {
    const embeddings = models.tokenizer.embed(ids);
    const pixels = models.tokenizer.decode(ids);
    const [t, e, p] = await Promise.all([ids.data(), embeddings.data(), pixels.data()]);
    tf.dispose([embeddings, pixels]);
    const size = pixels.shape[1];
    const per = size * size * 3;
    const images = captions.map((_, i) => Float32Array.from((p as Float32Array).subarray(i * per, (i + 1) * per)));
    return { caption, settings, tokens: Array.from(t), embeddings: Array.from(e), images, size, seconds: now() - start };
  } finally {
    ids.dispose();
  }
}

/** RGB pixels in [0, 1] (`S×S×3`) → image embedding → the baseline's and the Synth² VLM's captions. */
export async function captionPixels(models: StudioModels, pixels: Float32Array, decode: 'greedy' | 'beam'): Promise<Captions> {
  const start = now();
  const S = models.tokenizer.config.imageSize;
  const emb = tf.tidy(() => models.tokenizer.embed(models.tokenizer.encode({ data: pixels, shape: [1, S, S, 3] } as never)));
  const data = { data: (await emb.data()) as Float32Array, shape: emb.shape as [number, number, number] };
  emb.dispose();
  const options = decode === 'beam' ? ({ strategy: 'beam', beamSize: 3 } as const) : ({ strategy: 'greedy' } as const);
  const [baseline] = await models.vlms.baseline.caption(data, options);
  const [synth2] = await models.vlms.synth2.caption(data, options);
  return { embedding: Array.from(data.data), baseline, synth2, decode, seconds: now() - start };
}

/** A test image's pixels as floats in [0, 1]. */
export function testImagePixels(models: StudioModels, index: number): Float32Array {
  const S = models.testImages.size;
  const per = S * S * 3;
  return Float32Array.from(models.testImages.pixels.subarray(index * per, (index + 1) * per), (v) => v / 255);
}
