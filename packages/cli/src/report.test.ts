import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { renderReport, type ReportInput } from './report';

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
    } finally {
      await browser.close();
    }
  });
});
