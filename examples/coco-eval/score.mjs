// Score a COCO results file ([{ image_id, caption }]) against COCO caption annotations, like the official
// cocoEvalCapDemo. Usage: node score.mjs [annotations.json[.gz]] [results.json[.gz]]
// Without arguments it scores a real weak model's predictions on COCO val2017 from the shared data folder.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateCaptions, readJsonFile } from '@synth2/eval';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const check = process.argv.includes('--check');
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const annotations = args[0] ?? join(data, 'coco-eval', 'coco_captions_val2017.json.gz');
const results = args[1] ?? join(data, 'coco-eval', 'val2017_weak_model_results.json');
if (!existsSync(annotations) || !existsSync(results)) {
  console.log(`skipped: ${existsSync(annotations) ? results : annotations} not found (set SYNTH2_DATA_DIR or pass the two files)`);
  process.exit(0);
}

const t0 = performance.now();
const evaluation = await evaluateCaptions({
  references: await readJsonFile(annotations),
  predictions: await readJsonFile(results),
});
const seconds = (performance.now() - t0) / 1000;
console.log(`images: ${evaluation.imageIds.length}   (${seconds.toFixed(2)} s)`);
for (const [name, value] of Object.entries(evaluation.metrics)) console.log(`${name.padEnd(8)} ${value.toFixed(3)}`);
const s = evaluation.bleuStats;
if (s) console.log(`BLEU totals: testlen ${s.testlen}, reflen ${s.reflen}, guess [${s.guess}], correct [${s.correct}]`);

if (check && args.length === 0) {
  // Compare with the official pycocoevalcap output for this very file (shared/data/coco-eval/expected).
  const expected = (await readJsonFile(join(data, 'coco-eval', 'expected', 'val2017_fakecap.official_bleu_rouge_cider.json.gz'))).eval;
  for (const [name, value] of Object.entries(expected)) {
    const diff = Math.abs(evaluation.metrics[name] - value);
    if (!(diff <= 1e-12)) {
      console.error(`${name}: ${evaluation.metrics[name]} differs from the official ${value}`);
      process.exit(1);
    }
  }
  console.log('matches the official COCO evaluation (BLEU, ROUGE_L, CIDEr within 1e-12)');
}
