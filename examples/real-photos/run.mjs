// The Synth² pipeline on real photos: a Flickr-style folder (captions.csv) or a COCO-format folder, then baseline
// and Synth² CIDEr next to two reference points that need no training (a random train caption; the nearest train
// image's caption by tokenizer embedding), each with a 95% bootstrap interval over the test images.
//   node run.mjs [folder | --dataset NAME] [--out runs/real-photos] [--results results/x.json] [--image-size N] [--<stage>.<key> v …]
//       default folder: $SYNTH2_DATA_DIR/flickr8k-1k (--dataset NAME: $SYNTH2_DATA_DIR/NAME); --image-size and
//       --<stage>.<key> flags override the configuration
//   node run.mjs --tiny                                   seconds: every stage, a few steps
// Synthetic captions are written from COCO's 80 category names (the paper's class-based prompt; the offline
// grammar unless OPENAI_API_KEY / OPENAI_BASE_URL point at an LLM).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL, TINY, runRealPhotos, writeResults } from './real-photos.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const valueOf = (flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
const tiny = argv.includes('--tiny');
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const own = new Set(['--tiny', '--out', '--results', '--image-size', '--dataset']);
// a folder is an argument that is neither a flag nor a flag's value (--tiny takes none)
const positional = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--') && argv[i - 1] !== '--tiny'));
const folder = positional[0] ?? join(data, valueOf('--dataset') ?? 'flickr8k-1k');
const concepts = join(data, 'concepts', 'coco', 'coco80_categories.tsv');
if (!existsSync(folder) || !existsSync(concepts)) {
  console.log(`skipped: ${existsSync(folder) ? concepts : folder} not found (set SYNTH2_DATA_DIR or pass a folder)`);
  process.exit(0);
}
// every other --<stage>.<key> flag (with its value) goes to synth2 after the configuration's own
const extraFlags = argv.flatMap((a, i) =>
  a.startsWith('--') && a.includes('.') && !own.has(a) ? [a, ...(argv[i + 1] && !argv[i + 1].startsWith('--') ? [argv[i + 1]] : [])] : [],
);
const base = tiny ? TINY : FULL;
const size = valueOf('--image-size');
const config = size ? { ...base, imageSize: Number(size) } : base;
const out = valueOf('--out') ?? join(tiny ? join(here, '.test-output') : 'runs', 'real-photos');
const results = await runRealPhotos({ folder, concepts, out, config, extraFlags, quiet: tiny });
const pct = (x) => x.interval95.map((v) => v.toFixed(3)).join('–');
console.log(`${results.dataset}, ${results.imageSize}×${results.imageSize} px, ${results.images.test} test images: CIDEr (95% bootstrap interval)`);
for (const [name, c] of Object.entries(results.cider)) console.log(`  ${name.padEnd(20)} ${c.value.toFixed(3)}  (${pct(c)})`);
for (const [name, c] of Object.entries(results.comparisons)) {
  console.log(`  ${name.padEnd(34)} ${c.ratio == null ? '–' : `${c.ratio.toFixed(2)}×`}  (${c.interval95?.map((v) => (v == null ? '∞' : v.toFixed(2))).join('–') ?? '–'})`);
}
console.log(`pipeline ${results.seconds.pipeline} s; report: ${join(out, 'report.html')}`);
const file = valueOf('--results') ?? join(out, 'real-photos-results.json');
await writeResults(file, results);
console.log(`results: ${file}`);
