// Draws docs/shapes-world-samples.png: sample scenes of the default shapes world with their five captions.
// Run after a build: `node scripts/make-figure.mjs`. Uses sharp (a dependency of @synth2/core) to rasterise an SVG.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createShapesWorld } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@synth2/core/package.json'));
const sharp = requireFromCore('sharp');

const world = createShapesWorld({ seed: 2024 });
const n = 10;
const scale = 4;
const S = world.options.imageSize * scale;
const textW = 540;
const cols = 2;
const cellW = S + textW + 20;
const cellH = S + 16;
const width = cols * cellW + 10;
const height = Math.ceil(n / cols) * cellH + 10;
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const parts = [];
for (let i = 0; i < n; i++) {
  const item = world.item(i);
  const png = await sharp(Buffer.from(item.pixels), { raw: { width: item.width, height: item.height, channels: 3 } })
    .resize(S, S, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const x = 10 + (i % cols) * cellW;
  const y = 10 + Math.floor(i / cols) * cellH;
  parts.push(`<image x="${x}" y="${y}" width="${S}" height="${S}" href="data:image/png;base64,${png.toString('base64')}"/>`);
  item.captions.forEach((c, k) => {
    parts.push(`<text x="${x + S + 10}" y="${y + 18 + k * 22}" font-family="DejaVu Sans, sans-serif" font-size="12.5" fill="#222">${esc(c)}</text>`);
  });
}
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>`;
const out = join(here, '..', 'docs', 'shapes-world-samples.png');
await sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toFile(out);
console.log(`wrote ${out}`);
