// Synthesize image captions from visual concepts with an OpenAI-compatible chat server, as in Synth².
//
//   OPENAI_BASE_URL=http://localhost:8000/v1 OPENAI_MODEL=my-model node synthesize.mjs --count 200
//   OPENAI_API_KEY=sk-... OPENAI_MODEL=gpt-4o-mini node synthesize.mjs
//   node synthesize.mjs --local-server      # no LLM at hand: a local stand-in server answers
//
// Options: --concepts FILE (default: COCO's 80 categories from the shared data, else a short built-in list),
// --count N, --out FILE, --concurrency N, --k CONCEPTS_PER_CAPTION.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpenAICaptionSource, loadConcepts, synthesizeCaptions, DEFAULT_CAPTION_PROMPT } from '@synth2/captioner';
import { captionDiversity } from '@synth2/eval';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const data = process.env.SYNTH2_DATA_DIR ?? resolve(here, '../../../shared/data');
const conceptsFile = opt('concepts', join(data, 'concepts', 'coco', 'coco80_categories.tsv'));
const concepts = existsSync(conceptsFile)
  ? await loadConcepts(conceptsFile)
  : ['dog', 'bicycle', 'pizza', 'umbrella', 'train', 'kite', 'clock', 'giraffe'];
const count = Number(opt('count', '100'));
const out = resolve(opt('out', 'captions.jsonl'));

let server;
let baseURL = process.env.OPENAI_BASE_URL;
if (argv.includes('--local-server')) {
  // A local stand-in that speaks the chat-completions protocol and answers like a (very plain) LLM would.
  const { startChatCompletionsServer } = await import('@synth2/captioner/test');
  const places = ['on a wooden table', 'in a grassy field', 'next to a brick wall', 'on a city street', 'in a small kitchen'];
  server = await startChatCompletionsServer((req, i) => {
    const prompt = req.messages.map((m) => m.content).join('\n');
    const object = /object\(s\):\s*([^;\n]+?)(?:;|\.|\n|$)/i.exec(prompt)?.[1] ?? 'an object';
    return { contents: [`A ${object} ${places[i % places.length]} during the day`], usage: { prompt: 60, completion: 10 } };
  });
  baseURL = server.baseURL;
}
if (!baseURL && !process.env.OPENAI_API_KEY) {
  console.error('Set OPENAI_BASE_URL (any OpenAI-compatible server) and/or OPENAI_API_KEY, or pass --local-server.');
  process.exit(2);
}

const source = createOpenAICaptionSource({
  baseURL,
  apiKey: process.env.OPENAI_API_KEY ?? 'not-needed',
  model: process.env.OPENAI_MODEL ?? 'gpt-4o-mini',
  maxConcurrency: Number(opt('concurrency', '8')),
});
console.log(`prompt template:\n  ${String(DEFAULT_CAPTION_PROMPT.user ?? DEFAULT_CAPTION_PROMPT).slice(0, 200)}…`);
const summary = await synthesizeCaptions({
  source,
  concepts,
  count,
  out,
  conceptsPerCaption: Number(opt('k', '1')),
  sampler: 'balanced',
  wordCount: 10,
  seed: 1,
  resume: !argv.includes('--fresh'),
  onProgress: (e) => process.stderr.isTTY && process.stderr.write(`\r${e.written}/${e.count} captions`),
});
process.stderr.write('\n');
console.log(`wrote ${summary.written} captions to ${out} (${summary.requests} requests, rejected ${JSON.stringify(summary.rejected)}, ${summary.usage.promptTokens + summary.usage.completionTokens} tokens)`);

const { readFile } = await import('node:fs/promises');
const texts = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).text);
const d = captionDiversity(texts, { k: Math.min(20, texts.length), seed: 0 });
console.log(`diversity: vocabulary ${d.vocabularySize}, distinct-2 ${d.distinct2.toFixed(3)}, top-5 cluster share ${d.clusters?.top5Share?.toFixed(3)}`);
await source.close?.();
await server?.close();
if (summary.written !== count) process.exit(1);
