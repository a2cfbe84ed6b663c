import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError, loadImage } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { VQTokenizer } from '@synth2/generator';
import { CaptioningVLM } from '@synth2/vlm';
import { RunDirectory } from './run-directory';

/** Checks the models against the SHA-256 the run manifest records for them (a folder from elsewhere is used as is). */
async function verifyModels(root: string, paths: string[]): Promise<void> {
  if (!existsSync(join(root, 'manifest.json'))) return;
  const run = await RunDirectory.view(root);
  for (const path of paths) {
    const stage = path.split('/')[0];
    if (run.stage(stage)?.status === 'done') await run.verify(stage, path);
  }
}

/** Captions image files with a run's tokenizer and VLM (images are resized/centre-cropped to the tokenizer's size). */
export async function captionImageFiles(options: { run: string; model: string; beam: number; images: string[] }) {
  const tokDir = join(options.run, 'tokenizer', 'model');
  const vlmDir = join(options.run, `vlm-${options.model}`, 'model');
  for (const [what, dir] of [
    ['tokenizer', tokDir],
    [`VLM "${options.model}"`, vlmDir],
  ]) {
    if (!existsSync(dir)) {
      throw new ConfigurationError(`${options.run} has no trained ${what} (${dir} is missing). Run \`synth2 run --out ${options.run}\` first.`);
    }
  }
  if (!options.images.length) throw new ConfigurationError('no image files given.');
  await verifyModels(options.run, ['tokenizer/model', `vlm-${options.model}/model`]);
  await initBackend({ log: () => {} });
  const tokenizer = await VQTokenizer.load(tokDir);
  const model = await CaptioningVLM.load(vlmDir);
  const S = tokenizer.config.imageSize;
  const pixels = new Float32Array(options.images.length * S * S * 3);
  for (let i = 0; i < options.images.length; i++) {
    const img = await loadImage(options.images[i], { size: S });
    pixels.set(img.data, i * S * S * 3);
  }
  const shape: [number, number, number, number] = [options.images.length, S, S, 3];
  const embeddings = tf.tidy(() => tokenizer.embed(tokenizer.encode({ data: pixels, shape })));
  const data = { data: new Float32Array(embeddings.dataSync()), shape: embeddings.shape as [number, number, number] };
  embeddings.dispose();
  const captions = await model.caption(data, options.beam > 1 ? { strategy: 'beam', beamSize: options.beam } : { strategy: 'greedy' });
  tokenizer.dispose();
  model.dispose();
  return options.images.map((image, i) => ({ image, caption: captions[i] }));
}
