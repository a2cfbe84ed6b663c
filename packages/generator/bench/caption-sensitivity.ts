/**
 * How much a trained generator uses each attribute word of a caption. For real single-object images, the token
 * positions under the object's bounding box are masked (the background stays visible) and the generator's mean
 * log-likelihood of the true object tokens is computed with the true caption, with the caption's shape word
 * swapped for another shape, and with its colour word swapped. A generator that uses a word loses likelihood
 * when it is swapped; one that ignores it does not.
 */
import { tf } from '@synth2/nn';
import type { CaptionTokenGenerator } from '../src/index';
import { groupTokens } from '../src/index';

export interface ObjectScene {
  caption: string;
  /** Token grid `h·w` of the real image. */
  tokens: ArrayLike<number>;
  /** Object bounding box in fractions of the image side. */
  box: { x0: number; y0: number; x1: number; y1: number };
  color: string;
  shape: string;
}

export interface CaptionSensitivity {
  /** Mean log-likelihood (nats) per object token with the true caption. */
  trueCaption: number;
  shapeSwapped: number;
  colorSwapped: number;
  /** Likelihood lost per object token when the word is swapped (true − swapped). */
  shapeWordNats: number;
  colorWordNats: number;
  scenes: number;
}

/** Swaps `from` for `to` as a whole word (first occurrence). */
const swapWord = (text: string, from: string, to: string) => text.replace(new RegExp(`\\b${from}\\b`, 'i'), to);

export function captionSensitivity(
  generator: CaptionTokenGenerator,
  scenes: readonly ObjectScene[],
  names: { colors: readonly string[]; shapes: readonly string[] },
): CaptionSensitivity {
  // only captions that name the object's colour and shape as words can be swapped
  const usable = scenes.filter((s) => new RegExp(`\\b${s.color}\\b`, 'i').test(s.caption) && new RegExp(`\\b${s.shape}\\b`, 'i').test(s.caption));
  const n = usable.length;
  const { height: H, width: W, group } = generator.geometry;
  const P = generator.positions;
  const G = generator.perPosition;
  const K = generator.config.codebookSize;
  const L = generator.config.maxCaptionLength;
  const flat = new Int32Array(n * H * W);
  usable.forEach((s, i) => flat.set(Array.from(s.tokens), i * H * W));
  const grouped = groupTokens(flat, n, generator.geometry);
  const rows = H / group;
  const cols = W / group;
  const inputs = grouped.slice();
  const target = new Uint8Array(n * P);
  usable.forEach((s, b) => {
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const inside = c + 1 > s.box.x0 * cols && c < s.box.x1 * cols && r + 1 > s.box.y0 * rows && r < s.box.y1 * rows;
        if (!inside) continue;
        target[b * P + r * cols + c] = 1;
        for (let g = 0; g < G; g++) inputs[(b * P + r * cols + c) * G + g] = K;
      }
  });
  const logLik = (captions: string[]): number => {
    const { words, mask } = generator.encodeCaptions(captions);
    const lp = tf.tidy(() => {
      const net = generator.network;
      const m = tf.tensor2d(mask, [n, L], 'float32');
      const cap = net.encodeCaption(tf.tensor2d(words, [n, L], 'int32'), m);
      const logits = net.predict(tf.tensor3d(net.slotIds(inputs), [n, P, G], 'int32'), cap, m);
      // the distribution the sampler draws from: the frequency-weighting bias undone
      return tf.logSoftmax(tf.sub(logits, net.codeLogWeight)).dataSync() as Float32Array;
    });
    let total = 0;
    let count = 0;
    for (let b = 0; b < n; b++)
      for (let p = 0; p < P; p++) {
        if (!target[b * P + p]) continue;
        for (let g = 0; g < G; g++) {
          const j = (b * P + p) * G + g;
          total += lp[j * K + grouped[j]];
          count++;
        }
      }
    return total / Math.max(1, count);
  };
  const other = (list: readonly string[], name: string) => list[(list.indexOf(name) + 3) % list.length];
  const trueCaption = logLik(usable.map((s) => s.caption));
  const shapeSwapped = logLik(usable.map((s) => swapWord(s.caption, s.shape, other(names.shapes, s.shape))));
  const colorSwapped = logLik(usable.map((s) => swapWord(s.caption, s.color, other(names.colors, s.color))));
  return {
    trueCaption,
    shapeSwapped,
    colorSwapped,
    shapeWordNats: trueCaption - shapeSwapped,
    colorWordNats: trueCaption - colorSwapped,
    scenes: n,
  };
}
