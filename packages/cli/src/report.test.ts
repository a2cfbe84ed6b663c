import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeJsonl } from '@synth2/core';
import { saveImages } from './artifacts';
import { resolveConfig } from './config';
import { renderReport, type ReportInput } from './report';
import { Reporter } from './reporter';
import { RunDirectory } from './run-directory';
import { reportStage } from './stages/report';

/** A tiny valid PNG (solid colour) built by hand so the test needs no image library. */
function solidPng(w: number, h: number, rgb: [number, number, number]): string {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]).toString('base64');
}

const input: ReportInput = {
  title: 'Synth² on the shapes world',
  models: [
    { label: 'baseline', all: { CIDEr: 3.1, Bleu_4: 0.5 }, heldOut: { CIDEr: 2.0, Bleu_4: 0.4 }, heldOutPairRecall: 0.3, objectNaming: { seen: { images: 10, color: 0.9, shape: 0.5, both: 0.45 } }, curve: [{ step: 0, loss: 5 }, { step: 10, loss: 2 }] },
    { label: 'Synth² <mixed>', all: { CIDEr: 3.4, Bleu_4: 0.55 }, heldOut: { CIDEr: 2.6, Bleu_4: 0.45 }, heldOutPairRecall: 0.6, curve: [{ step: 0, loss: 5 }, { step: 10, loss: 1.8 }] },
  ],
  highlights: [{ label: 'held-out CIDEr ratio', value: '1.30×' }],
  diversity: [{ label: 'human', values: { vocabulary: 40, top5ClusterShare: 0.4 } }],
  samples: [{ imageId: '1', png: solidPng(8, 8, [255, 0, 0]), references: ['a red square'], captions: { baseline: 'a red square', 'Synth²': 'a red square' }, heldOut: true }],
  generations: [{ caption: 'a blue circle', png: solidPng(8, 8, [0, 0, 255]) }],
};

describe('renderReport', () => {
  it('should escape text and include the table, chart, curves and images', () => {
    const html = renderReport(input);
    expect(html).toContain('Synth² &#60;mixed&#62;');
    expect(html).toContain('id="metrics"');
    expect(html).toContain('id="bar-chart"');
    expect(html).toContain('id="training-curves"');
    expect(html.match(/<img /g)).toHaveLength(2);
    // object naming: shown for the model that has it, '–' where a model or a group has none
    expect(html).toContain('id="object-naming"');
    expect(html).toContain('seen colour–shape pairs (10 images)');
    expect(html).toMatch(/<th scope="row">baseline<\/th><td>0\.90<\/td><td>0\.50<\/td><td>0\.45<\/td><td>–<\/td>/);
    expect(renderReport({ ...input, models: input.models.map(({ objectNaming: _o, ...m }) => m) })).not.toContain('object-naming');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });
});

/** The training-curves chart of a report. */
const curvesSvg = (html: string) => html.match(/<svg id="training-curves"[\s\S]*?<\/svg>/)![0];
/** [model name, colour] of each drawn curve. */
const curveLines = (svg: string) =>
  [...svg.matchAll(/<polyline [^>]*stroke="([^"]+)"[^>]*><title>([^<]*)<\/title>/g)].map((m) => [m[2], m[1]]);
/** [model name, colour] of each legend entry. */
const legendEntries = (svg: string) =>
  [...svg.matchAll(/<g class="legend-entry"><line [^>]*stroke="([^"]+)"[^>]*\/><text [^>]*>([^<]*)<\/text><\/g>/g)].map((m) => [m[2], m[1]]);
/** The inner HTML of each decoded-generation figure. */
const generationFigures = (html: string) => [...html.matchAll(/<figure class="generation">([\s\S]*?)<\/figure>/g)].map((m) => m[1]);

describe('renderReport training curves', () => {
  it('should give every curve a legend entry with its model name and its line colour', () => {
    const svg = curvesSvg(renderReport(input));
    const lines = curveLines(svg);
    expect(lines.map(([name]) => name)).toEqual(['baseline', 'Synth² &#60;mixed&#62;']);
    expect(new Set(lines.map(([, colour]) => colour)).size).toBe(2);
    expect(legendEntries(svg)).toEqual(lines);
  });

  it('should list only the models that have a curve, in the colours of the bar chart', () => {
    const html = renderReport({ ...input, models: [{ ...input.models[0], curve: undefined }, input.models[1]] });
    const svg = curvesSvg(html);
    const barColour = html.match(/<rect class="bar" [^>]*fill="([^"]+)"><title>Synth² &#60;mixed&#62;/)![1];
    expect(legendEntries(svg)).toEqual([['Synth² &#60;mixed&#62;', barColour]]);
    expect(curveLines(svg)).toEqual([['Synth² &#60;mixed&#62;', barColour]]);
  });
});

describe('renderReport decoded generations', () => {
  it('should show each synthetic caption above the image generated for it', () => {
    const html = renderReport({ ...input, generations: [...input.generations!, { caption: 'two <green> squares', png: solidPng(8, 8, [0, 255, 0]) }] });
    const figures = generationFigures(html);
    expect(figures).toHaveLength(2);
    expect(figures[0]).toMatch(/^<figcaption>a blue circle<\/figcaption><img alt="generated for: a blue circle" src="data:image\/png;base64,/);
    expect(figures[1]).toMatch(/^<figcaption>two &#60;green&#62; squares<\/figcaption><img /);
  });
});

describe('reportStage', () => {
  it("should put the generate stage's gallery.json in report.html, each caption above its image, titled by the data folder", async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'synth2-report-stage-')), 'run');
    const config = resolveConfig({ data: { source: '/data/flickr8k-1k' } });
    const run = await RunDirectory.open(root, { config: config as unknown as Record<string, unknown>, seed: config.seed });
    await mkdir(join(root, 'data'));
    await mkdir(join(root, 'evaluate'));
    await mkdir(join(root, 'generate'));
    await writeJsonl(join(root, 'data', 'test.jsonl'), [{ imageId: 'im1', captions: ['a dog runs'], width: 8, height: 8 }]);
    await saveImages(join(root, 'data', 'test.images.safetensors'), { data: new Uint8Array(8 * 8 * 3).fill(200), shape: [1, 8, 8, 3] });
    const model = (caption: string, cider: number) => ({ all: { CIDEr: cider }, predictions: { im1: caption }, perImageCider: { all: [cider] } });
    await writeFile(
      join(root, 'evaluate', 'scores.json'),
      JSON.stringify({
        models: { baseline: model('a dog', 0.2), synth2: model('a dog runs', 0.4) },
        diversity: {},
        summary: { ciderAll: { baseline: 0.2, synth2: 0.4, ratio: 2 }, ciderHeldOut: {}, heldOutPairRecall: {}, objectNaming: {} },
        testImages: 1,
        heldOutTestImages: 0,
      }),
    );
    const gallery = [
      { caption: 'a cat on a sofa', png: solidPng(8, 8, [255, 0, 0]) },
      { caption: 'a bus & a car', png: solidPng(8, 8, [0, 0, 255]) },
    ];
    await writeFile(join(root, 'generate', 'gallery.json'), JSON.stringify(gallery));
    await reportStage({ config, run, reporter: new Reporter('quiet') }, join(root, 'report'));
    const html = await readFile(join(root, 'report.html'), 'utf8');
    expect(html).toContain('<title>Synth² on flickr8k-1k</title>');
    const figures = generationFigures(html);
    expect(figures).toHaveLength(2);
    figures.forEach((f, i) => {
      expect(f.startsWith(`<figcaption>${gallery[i].caption.replace('&', '&#38;')}</figcaption><img `)).toBe(true);
      expect(f).toContain(`src="data:image/png;base64,${gallery[i].png}"`);
    });
  });
});

const CHROMIUM = process.env.SYNTH2_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`[skip] report rendering test: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(!haveChromium)('report.html in headless Chromium', () => {
  it('should render without errors and show the table and the images', async () => {
    const { chromium } = await import('playwright-core');
    const dir = await mkdtemp(join(tmpdir(), 'synth2-report-'));
    const file = join(dir, 'report.html');
    await writeFile(file, renderReport(input));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(pathToFileURL(file).href);
      expect(errors).toEqual([]);
      expect(await page.locator('#metrics tbody tr').count()).toBe(2);
      expect(await page.locator('#metrics').isVisible()).toBe(true);
      expect(await page.locator('#bar-chart rect.bar').count()).toBe(4);
      const loaded = await page.$$eval('img', (imgs) => imgs.map((i) => (i as any).complete && (i as any).naturalWidth));
      expect(loaded).toEqual([8, 8]);
      expect(await page.locator('#training-curves .legend-entry text').allTextContents()).toEqual(['baseline', 'Synth² <mixed>']);
      // the caption sits above its generated image
      const caption = await page.locator('figure.generation figcaption').boundingBox();
      const image = await page.locator('figure.generation img').boundingBox();
      expect(caption!.y + caption!.height).toBeLessThanOrEqual(image!.y);
    } finally {
      await browser.close();
    }
  });
});
