import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import * as nodeEntry from './index';

const here = dirname(fileURLToPath(import.meta.url));
const browserDir = resolve(here, '..', 'dist', 'browser');
const browserEntry = join(browserDir, 'index.js');
const NODE_BUILTIN_IMPORT =
  /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[^"']+|fs|fs\/promises|path|os|child_process|zlib|url|util|crypto|stream|worker_threads|module)["']/g;

// the README's example, scored by both entries
const references = {
  'img-1': ['A man rides a horse on the beach.', 'A person riding a horse along the shore.'],
  'img-2': ['Two dogs play with a ball in the grass.', 'Two puppies chasing a ball on a lawn.'],
};
const predictions = { 'img-1': 'a man riding a horse on a beach', 'img-2': 'two dogs playing with a ball' };

let tmp: string | undefined;
let bundled: Promise<typeof nodeEntry> | undefined;

function requireBuild(): void {
  if (!existsSync(browserEntry)) {
    throw new Error(
      `the browser build is missing (${browserEntry}): run \`npm run build -w @synth2/eval\` first.`,
    );
  }
}

/** The browser build bundled as a browser bundler would (the `browser` export conditions, no Node built-ins), then imported. */
function browserBundle(): Promise<typeof nodeEntry> {
  bundled ??= (async () => {
    requireBuild();
    tmp = mkdtempSync(join(tmpdir(), 'synth2-eval-browser-'));
    const outfile = join(tmp, 'bundle.mjs');
    await build({
      entryPoints: [browserEntry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile,
      logLevel: 'silent',
    });
    return (await import(pathToFileURL(outfile).href)) as typeof nodeEntry;
  })();
  return bundled;
}

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the browser build (dist/browser)', () => {
  it('should import no Node built-in', () => {
    requireBuild();
    const files = readdirSync(browserDir).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const found = [...readFileSync(join(browserDir, f), 'utf8').matchAll(NODE_BUILTIN_IMPORT)].map(
        (m) => m[1],
      );
      expect({ file: f, builtins: found }).toEqual({ file: f, builtins: [] });
    }
  });

  it('should bundle without tfjs and without zod (core is reached only through its light internal entry)', async () => {
    requireBuild();
    const result = await build({
      entryPoints: [browserEntry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => /tensorflow|tfjs|[\\/]zod[\\/]/.test(f))).toEqual([]);
  });

  it('should score the README example exactly as the Node entry does', async () => {
    const browser = await browserBundle();
    const fromBrowser = await browser.evaluateCaptions({ references, predictions });
    const fromNode = await nodeEntry.evaluateCaptions({ references, predictions });
    expect(fromBrowser.metrics).toEqual(fromNode.metrics);
    expect(JSON.parse(JSON.stringify(fromBrowser.perImage))).toEqual(
      JSON.parse(JSON.stringify(fromNode.perImage)),
    );
    expect(fromBrowser.bleuStats).toEqual(fromNode.bleuStats);
    expect(fromBrowser.tokenized.references).toEqual(fromNode.tokenized.references);
    expect(fromBrowser.metrics.CIDEr?.toFixed(3)).toBe('2.478');
    expect(fromBrowser.metrics.ROUGE_L?.toFixed(3)).toBe('0.697');
  });

  it('should tokenize and measure diversity as the Node entry does', async () => {
    const browser = await browserBundle();
    const captions = [
      'A man rides a horse.',
      "Dogs' toys <|endoftext|> Ph.D. students",
      'Two puppies chasing a ball.',
    ];
    expect(browser.ptbTokenize(captions)).toEqual(nodeEntry.ptbTokenize(captions));
    expect(browser.captionDiversity(captions, { k: 2 })).toEqual(
      nodeEntry.captionDiversity(captions, { k: 2 }),
    );
    expect(
      browser.bleuFromStats({ testlen: 9, reflen: 10, guess: [9, 8, 7, 6], correct: [7, 4, 2, 1] }),
    ).toEqual(
      nodeEntry.bleuFromStats({ testlen: 9, reflen: 10, guess: [9, 8, 7, 6], correct: [7, 4, 2, 1] }),
    );
  });

  it('should say that METEOR, SPICE, file reading and the CLI need Node', async () => {
    const browser = await browserBundle();
    await expect(
      browser.evaluateCaptions({ references, predictions, metrics: ['BLEU', 'METEOR'] }),
    ).rejects.toThrow(/METEOR .*needs Node/);
    await expect(browser.runSpice([], [], [])).rejects.toThrow(/SPICE .*needs Node/);
    await expect(browser.readJsonFile('results.json')).rejects.toThrow(/readJsonFile .*needs Node/);
    await expect(browser.runCli([], { stdout: () => {}, stderr: () => {} })).rejects.toThrow(
      /synth2-eval command\) needs Node/,
    );
  });
});
