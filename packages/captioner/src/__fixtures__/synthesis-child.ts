// Runs one synthesis run in a child process (bundled by the test with esbuild), so the test can SIGKILL it.
import { createOpenAICaptionSource } from '../sources/openai-caption-source';
import { synthesizeCaptions } from '../synthesis/synthesize-captions';

const settings = JSON.parse(process.argv[2]) as { baseURL: string; out: string; count: number; concurrency: number; n: number; timeout?: number };
const source = createOpenAICaptionSource({ baseURL: settings.baseURL, model: 'child', maxRetries: 0, n: settings.n, timeout: settings.timeout });
await synthesizeCaptions({
  source,
  concepts: ['dog', 'cat', 'horse', 'bicycle', 'pizza', 'umbrella'],
  count: settings.count,
  out: settings.out,
  concurrency: settings.concurrency,
  seed: 7,
  onProgress: (e) => process.stdout.write(`${e.written}\n`),
});
process.stdout.write('done\n');
