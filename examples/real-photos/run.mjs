// The Synth² pipeline on real photos: a Flickr-style folder (captions.csv) or a COCO-format folder.
//   node run.mjs [folder] [--out runs/real-photos]      default folder: the shared Flickr8k 1k subset
//   node run.mjs --tiny                                  seconds; what `npm test` runs
// Synthetic captions are written from COCO's 80 category names (the paper's class-based prompt; the offline
// grammar unless OPENAI_API_KEY / OPENAI_BASE_URL point at an LLM).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '@synth2/cli';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const tiny = argv.includes('--tiny');
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const folder = argv.find((a) => !a.startsWith('--')) ?? join(data, 'flickr8k-1k');
const concepts = join(data, 'concepts', 'coco', 'coco80_categories.tsv');
if (!existsSync(folder) || !existsSync(concepts)) {
  console.log(`skipped: ${existsSync(folder) ? concepts : folder} not found (set SYNTH2_DATA_DIR or pass a folder)`);
  process.exit(0);
}
const outIndex = argv.indexOf('--out');
const out = outIndex >= 0 ? argv[outIndex + 1] : join(tiny ? join(here, '.test-output') : 'runs', 'real-photos');
const sizes = tiny
  ? ['--data.train', '40', '--data.val', '0', '--data.test', '20', '--tokenizer.steps', '10', '--generator.steps', '10', '--captions.count', '30', '--vlm.steps', '10']
  : ['--data.train', '750', '--data.val', '50', '--data.test', '200', '--tokenizer.steps', '600', '--generator.steps', '800', '--captions.count', '2000', '--vlm.steps', '1500'];
const code = await main([
  'run', '--out', out, '--seed', '1', ...(tiny ? ['--quiet'] : []),
  '--data.source', folder, '--data.holdOutFraction', '0', '--captions.concepts', concepts, '--captions.conceptsPerCaption', '2',
  ...sizes,
]);
if (code !== 0) process.exit(code);
const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
for (const [name, m] of Object.entries(results.models)) {
  console.log(`${name.padEnd(8)} BLEU-4 ${m.all.Bleu_4.toFixed(3)}  ROUGE-L ${m.all.ROUGE_L.toFixed(3)}  CIDEr ${m.all.CIDEr.toFixed(3)}`);
}
console.log(`report: ${join(out, 'report.html')}`);
