// `npm test`: a tiny run of the example (every stage, a few steps) and checks of its reference points.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VQTokenizer } from '@synth2/generator';
import { TINY, runRealPhotos } from './real-photos.mjs';
import { nearestRows, randomTrainCaptions, readRunSplit, tokenizerEmbeddings } from './reference-points.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const folder = join(data, 'coco-mini');
const concepts = join(data, 'concepts', 'coco', 'coco80_categories.tsv');
const haveData = existsSync(folder) && existsSync(concepts);
if (!haveData) console.log(`[skip] real-photos smoke run: ${folder} or ${concepts} not found (set SYNTH2_DATA_DIR)`);

describe('nearestRows', () => {
  it('should pick the reference row with the largest cosine, not the smallest distance', () => {
    const unit = (v) => v.map((x) => x / Math.hypot(...v));
    // the query points along (1, 0.1); reference 1 is far away along the same direction, reference 0 is near but turned
    const queries = { data: Float32Array.from(unit([1, 0.1])), dim: 2 };
    const references = { data: Float32Array.from([...unit([0.7, 0.7]), ...unit([10, 1]), ...unit([0, 1])]), dim: 2 };
    assert.deepEqual(Array.from(nearestRows(queries, references)), [1]);
  });
});

describe('the example on coco-mini, tiny', { skip: !haveData && 'no data' }, () => {
  let root;
  let out;
  let results;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'synth2-real-photos-'));
    out = join(root, 'run');
    results = await runRealPhotos({ folder, concepts, out, config: TINY, quiet: true });
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('should score the models and both reference points with bootstrap intervals', () => {
    assert.deepEqual(Object.keys(results.cider), ['baseline', 'synth2', 'randomTrainCaption', 'nearestTrainCaption']);
    for (const [name, c] of Object.entries(results.cider)) {
      assert.ok(Number.isFinite(c.value) && c.value >= 0, `${name} CIDEr ${c.value}`);
      assert.ok(c.interval95[0] <= c.value && c.value <= c.interval95[1], `${name}: ${c.value} outside ${c.interval95}`);
    }
    assert.ok('synth2 / baseline' in results.comparisons && 'baseline / nearestTrainCaption' in results.comparisons);
    // the reference points are scored like the models: rescoring the baseline's captions gives the run's CIDEr
    assert.equal(results.check.baselineCiderRescored, results.check.baselineCiderFromRun);
    assert.equal(results.imageSize, 32);
    assert.ok(results.seconds.stages['vlm-baseline'] > 0, 'stage times recorded');
  });

  it('should draw random captions from the train captions, the same for the same seed', async () => {
    const [train, test] = [await readRunSplit(out, 'train'), await readRunSplit(out, 'test')];
    const pool = new Set(train.items.flatMap((it) => it.captions));
    const drawn = randomTrainCaptions(train, test, 1);
    assert.deepEqual(Object.keys(drawn).sort(), test.items.map((it) => it.imageId).sort());
    assert.ok(Object.values(drawn).every((c) => pool.has(c)));
    assert.deepEqual(randomTrainCaptions(train, test, 1), drawn);
    assert.notDeepEqual(randomTrainCaptions(train, test, 2), drawn);
  });

  it("should find each train image's own embedding as its nearest train image", async () => {
    const train = await readRunSplit(out, 'train');
    const tokenizer = await VQTokenizer.load(join(out, 'tokenizer', 'model'));
    const e = tokenizerEmbeddings(tokenizer, train.images, 7);
    tokenizer.dispose();
    assert.equal(e.dim, tokenizer.tokensPerImage * tokenizer.config.codeDim);
    const nn = nearestRows(e, e);
    nn.forEach((j, i) => {
      let dot = 0;
      for (let k = 0; k < e.dim; k++) dot += e.data[i * e.dim + k] * e.data[j * e.dim + k];
      assert.ok(Math.abs(dot - 1) < 1e-4, `image ${i}: nearest ${j} has cosine ${dot}`);
    });
  });
});
