import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { initBackend, tf } from '@synth2/core/tf';
import { ConceptScorer } from './concept-scorer';

// A toy world of 6×6 grids of 4-d "codebook vectors": an object is a 2×2 block in one of two textures (shapes:
// channel 0 or 1 active, in a shape-specific checker pattern) and one of three colours (channel 2 + c), anywhere on
// the grid over a noisy background. The pair (blue, star) is never seen in training.
const COLORS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'star'];
const SIDE = 6;
const D = 5;

function scene(rng: Rng, color: number, shape: number): Float32Array {
  const x = new Float32Array(SIDE * SIDE * D);
  for (let i = 0; i < x.length; i++) x[i] = 0.1 * rng.normal();
  const r0 = rng.int(0, SIDE - 1);
  const c0 = rng.int(0, SIDE - 1);
  for (let dr = 0; dr < 2; dr++) {
    for (let dc = 0; dc < 2; dc++) {
      const cell = ((r0 + dr) * SIDE + c0 + dc) * D;
      // a circle lights channel 0 on the block's diagonal, a star channel 1 off it
      if ((dr === dc) === (shape === 0)) x[cell + shape] += 1;
      x[cell + 2 + color] += 1;
    }
  }
  return x;
}

const caption = (c: number, s: number, rng: Rng) => `a ${COLORS[c]} ${SHAPES[s]}${rng.bool(0.3) ? ' on grey' : ''}`;

describe('ConceptScorer', () => {
  let scorer: ConceptScorer;
  const rng = new Rng(3);
  beforeAll(async () => {
    await initBackend({ log: () => {} });
    const pairs: [number, number][] = [];
    for (let c = 0; c < 3; c++) for (let s = 0; s < 2; s++) if (!(c === 2 && s === 1)) pairs.push([c, s]);
    const N = 200;
    const data = new Float32Array(N * SIDE * SIDE * D);
    const captions: string[][] = [];
    for (let i = 0; i < N; i++) {
      const [c, s] = pairs[i % pairs.length];
      data.set(scene(rng, c, s), i * SIDE * SIDE * D);
      captions.push([caption(c, s, rng), caption(c, s, rng)]);
    }
    scorer = await ConceptScorer.fit({ embeddings: { data, shape: [N, SIDE * SIDE, D] }, captions, steps: 250, hidden: 16, minImages: 5, seed: 1 });
  }, 60_000);

  it('labels the content words, not the words every caption uses', () => {
    expect([...scorer.words].sort()).toEqual(['blue', 'circle', 'green', 'grey', 'on', 'red', 'star'].sort());
    expect(scorer.scoredWords('a red star, a red one')).toEqual(['red', 'star']);
  });

  it('ranks the candidate that shows the caption first, also for a pair it never saw', () => {
    let right = 0;
    let total = 0;
    for (const [c, s] of [
      [0, 0],
      [1, 1],
      [2, 1], // held out
      [2, 1],
    ] as const) {
      for (let t = 0; t < 5; t++) {
        // the true scene against the wrong shape and against the wrong colour
        const others: [number, number][] = [
          [c, 1 - s],
          [(c + 1) % 3, s],
        ];
        for (const [oc, os] of others) {
          const x = tf.tensor3d([...scene(rng, c, s), ...scene(rng, oc, os)], [2, SIDE * SIDE, D]);
          const [good, bad] = scorer.score(x, [`a ${COLORS[c]} ${SHAPES[s]}`, `a ${COLORS[c]} ${SHAPES[s]}`]);
          x.dispose();
          total++;
          if (good > bad) right++;
        }
      }
    }
    expect(right / total).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic for a seed', async () => {
    const data = new Float32Array(12 * SIDE * SIDE * D);
    const captions: string[][] = [];
    const r = new Rng(9);
    for (let i = 0; i < 12; i++) {
      data.set(scene(r, i % 3, i % 2), i * SIDE * SIDE * D);
      captions.push([caption(i % 3, i % 2, r)]);
    }
    const fit = () => ConceptScorer.fit({ embeddings: { data, shape: [12, SIDE * SIDE, D] }, captions, steps: 5, hidden: 8, minImages: 2, maxShare: 0.9, seed: 4 });
    const [a, b] = [await fit(), await fit()];
    const x = tf.tensor3d(data, [12, SIDE * SIDE, D]);
    const caps = captions.map((c) => c[0]);
    expect(Array.from(a.score(x, caps))).toEqual(Array.from(b.score(x, caps)));
    x.dispose();
    a.dispose();
    b.dispose();
  });

  it('says what is wrong with bad input', async () => {
    const data = new Float32Array(4 * 36 * D);
    await expect(ConceptScorer.fit({ embeddings: { data, shape: [4, 36, D] }, captions: [['a red circle']] })).rejects.toThrow(/4 embeddings but 1 caption lists/);
    await expect(ConceptScorer.fit({ embeddings: { data, shape: [4, 30, D] }, captions: [[], [], [], []] })).rejects.toThrow(InvalidInputError);
    await expect(ConceptScorer.fit({ embeddings: { data, shape: [4, 36, D] }, captions: [['a'], ['a'], ['a'], ['a']] })).rejects.toThrow(/no word is used/);
    const x = tf.zeros([2, 16, D]) as tf.Tensor3D;
    expect(() => scorer.score(x, ['a red circle', 'a red circle'])).toThrow(/trained on \[B, 36, 5\]/);
    expect(() => scorer.score(x, ['a red circle'])).toThrow(/2 embeddings but 1 captions/);
    x.dispose();
  });
});
