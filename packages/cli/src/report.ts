import type { ObjectNaming } from '@synth2/datasets';

/** Everything `report.html` shows; `results.json` holds the same object without the images. */
export interface ModelReport {
  label: string;
  /** Corpus metrics on all test images. */
  all: Record<string, number>;
  /** Corpus metrics on test images that contain a held-out composition. */
  heldOut?: Record<string, number>;
  /** Share of true objects whose held-out colour–shape pair the caption names. */
  heldOutPairRecall?: number;
  /** Colour/shape naming accuracy on single-object test images, seen and held-out pairs (shapes world). */
  objectNaming?: { seen?: ObjectNaming; heldOut?: ObjectNaming };
  /** Training curve. */
  curve?: { step: number; loss: number }[];
}

/** What the HTML report shows: title, models, highlights and figures. */
export interface ReportInput {
  title: string;
  subtitle?: string;
  models: ModelReport[];
  /** Extra key figures shown under the table (e.g. ratios, timings). */
  highlights?: { label: string; value: string }[];
  diversity?: { label: string; values: Record<string, number> }[];
  timings?: Record<string, number>;
  samples?: { imageId: string; png?: string; references: string[]; captions: Record<string, string>; heldOut?: boolean }[];
  generations?: { caption: string; png?: string; heldOut?: boolean }[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | undefined, digits = 3) =>
  v == null || !Number.isFinite(v) ? '–' : Number.isInteger(v) && Math.abs(v) >= 10 ? v.toLocaleString('en-US') : v.toFixed(digits);
const COLORS = ['#6b7280', '#2563eb', '#16a34a', '#dc2626', '#9333ea'];

function barChart(models: ModelReport[], metric: string): string {
  const groups: { name: string; values: (number | undefined)[] }[] = [
    { name: `${metric}, all test images`, values: models.map((m) => m.all[metric]) },
    { name: `${metric}, held-out compositions`, values: models.map((m) => m.heldOut?.[metric]) },
  ];
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.values.filter((v): v is number => v != null)));
  const W = 560;
  const H = 240;
  const gw = (W - 40) / groups.length;
  const bw = Math.min(60, (gw - 40) / models.length);
  let bars = '';
  groups.forEach((g, gi) => {
    g.values.forEach((v, mi) => {
      if (v == null) return;
      const h = (v / max) * (H - 70);
      const x = 30 + gi * gw + 20 + mi * bw;
      const y = H - 40 - h;
      bars += `<rect class="bar" x="${x}" y="${y}" width="${bw - 6}" height="${h}" fill="${COLORS[mi % COLORS.length]}"><title>${esc(models[mi].label)}: ${fmt(v)}</title></rect>`;
      bars += `<text x="${x + (bw - 6) / 2}" y="${y - 4}" text-anchor="middle" font-size="11">${fmt(v, 2)}</text>`;
    });
    bars += `<text x="${30 + gi * gw + gw / 2}" y="${H - 20}" text-anchor="middle" font-size="12">${esc(g.name)}</text>`;
  });
  const legend = models
    .map(
      (m, i) =>
        `<rect x="${30 + i * 150}" y="6" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${46 + i * 150}" y="16" font-size="12">${esc(m.label)}</text>`,
    )
    .join('');
  return `<svg id="bar-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(metric)} by model">${legend}${bars}<line x1="30" y1="${H - 40}" x2="${W - 10}" y2="${H - 40}" stroke="#999"/></svg>`;
}

/** One legend entry per drawn curve (its colour swatch and model name), stacked in the chart's top-right corner. */
function curveLegend(series: ModelReport[], models: ModelReport[], W: number): string {
  const entries = series
    .map((m, k) => {
      const color = COLORS[models.indexOf(m) % COLORS.length];
      const y = 8 + k * 16;
      return `<g class="legend-entry"><line x1="${W - 200}" y1="${y + 6}" x2="${W - 184}" y2="${y + 6}" stroke="${color}" stroke-width="3"/><text x="${W - 178}" y="${y + 10}" font-size="11">${esc(m.label)}</text></g>`;
    })
    .join('');
  return `<g class="legend" aria-label="legend">${entries}</g>`;
}

function curves(models: ModelReport[]): string {
  const series = models.filter((m) => m.curve && m.curve.length > 1);
  if (!series.length) return '<p>No training curves recorded.</p>';
  const W = 560;
  const H = 240;
  const all = series.flatMap((m) => m.curve!);
  const maxStep = Math.max(...all.map((p) => p.step));
  const losses = all.map((p) => p.loss).filter(Number.isFinite);
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const x = (s: number) => 40 + (s / Math.max(1, maxStep)) * (W - 60);
  const y = (l: number) => 10 + (1 - (l - lo) / Math.max(1e-9, hi - lo)) * (H - 50);
  const paths = series
    .map((m) => {
      const i = models.indexOf(m);
      const pts = m.curve!.filter((p) => Number.isFinite(p.loss)).map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`);
      return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5" points="${pts.join(' ')}"><title>${esc(m.label)}</title></polyline>`;
    })
    .join('');
  return `<svg id="training-curves" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="training loss">${paths}${curveLegend(series, models, W)}
<text x="40" y="${H - 20}" font-size="11">step 0</text><text x="${W - 20}" y="${H - 20}" font-size="11" text-anchor="end">step ${maxStep}</text>
<text x="4" y="14" font-size="11">${fmt(hi, 2)}</text><text x="4" y="${H - 40}" font-size="11">${fmt(lo, 2)}</text></svg>`;
}

/** Renders a self-contained HTML report (inline SVG charts, images as data URIs; no network). */
export function renderReport(input: ReportInput): string {
  const metricNames = [...new Set(input.models.flatMap((m) => Object.keys(m.all)))];
  const headline = metricNames.includes('CIDEr') ? 'CIDEr' : metricNames[0];
  const rows = input.models
    .map(
      (m) =>
        `<tr><th scope="row">${esc(m.label)}</th>${metricNames.map((k) => `<td>${fmt(m.all[k])}</td>`).join('')}${metricNames
          .map((k) => `<td>${fmt(m.heldOut?.[k])}</td>`)
          .join('')}<td>${fmt(m.heldOutPairRecall)}</td></tr>`,
    )
    .join('');
  const table = `<table id="metrics"><thead><tr><th rowspan="2">model</th><th colspan="${metricNames.length}">all test images</th><th colspan="${metricNames.length}">images with a held-out composition</th><th rowspan="2">held-out pair recall</th></tr><tr>${metricNames
    .map((k) => `<th>${esc(k)}</th>`)
    .join('')}${metricNames.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
  const named = input.models.filter((m) => m.objectNaming?.seen || m.objectNaming?.heldOut);
  const naming = named.length
    ? (() => {
        const cell = (x?: ObjectNaming) => (x ? `<td>${fmt(x.color, 2)}</td><td>${fmt(x.shape, 2)}</td><td>${fmt(x.both, 2)}</td>` : '<td>–</td><td>–</td><td>–</td>');
        const n = (k: 'seen' | 'heldOut') => named.find((m) => m.objectNaming?.[k])?.objectNaming?.[k]?.images ?? 0;
        return `<h2>Does the caption name the object right?</h2><p>Single-object test images: share of captions whose colour and shape words are right.</p><table id="object-naming"><thead><tr><th rowspan="2">model</th><th colspan="3">seen colour–shape pairs (${n('seen')} images)</th><th colspan="3">held-out pairs (${n('heldOut')} images)</th></tr><tr>${'<th>colour</th><th>shape</th><th>both</th>'.repeat(2)}</tr></thead><tbody>${named
          .map((m) => `<tr><th scope="row">${esc(m.label)}</th>${cell(m.objectNaming?.seen)}${cell(m.objectNaming?.heldOut)}</tr>`)
          .join('')}</tbody></table>`;
      })()
    : '';
  const highlights = input.highlights?.length
    ? `<ul class="highlights">${input.highlights.map((h) => `<li><b>${esc(h.label)}:</b> ${esc(h.value)}</li>`).join('')}</ul>`
    : '';
  const diversity = input.diversity?.length
    ? (() => {
        const keys = [...new Set(input.diversity.flatMap((d) => Object.keys(d.values)))];
        return `<h2>Caption diversity and balance</h2><table id="diversity"><thead><tr><th>captions</th>${keys
          .map((k) => `<th>${esc(k)}</th>`)
          .join('')}</tr></thead><tbody>${input.diversity
          .map((d) => `<tr><th scope="row">${esc(d.label)}</th>${keys.map((k) => `<td>${fmt(d.values[k])}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
      })()
    : '';
  const timings = input.timings
    ? `<h2>Stage times</h2><table id="timings"><tbody>${Object.entries(input.timings)
        .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${v.toFixed(1)} s</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const samples = input.samples?.length
    ? `<h2>Test images and captions</h2><div class="grid">${input.samples
        .map(
          (s) =>
            `<figure class="sample${s.heldOut ? ' held-out' : ''}">${s.png ? `<img alt="test image ${esc(s.imageId)}" src="data:image/png;base64,${s.png}" width="96" height="96">` : ''}<figcaption>${
              s.heldOut ? '<span class="tag">held-out composition</span>' : ''
            }<div class="ref">human: ${esc(s.references[0] ?? '')}</div>${Object.entries(s.captions)
              .map(([k, v]) => `<div><b>${esc(k)}:</b> ${esc(v)}</div>`)
              .join('')}</figcaption></figure>`,
        )
        .join('')}</div>`
    : '';
  const generations = input.generations?.length
    ? `<h2>Decoded generations for synthetic captions</h2><div class="grid">${input.generations
        .map(
          (g) =>
            `<figure class="generation"><figcaption>${g.heldOut ? '<span class="tag">held-out composition</span>' : ''}${esc(
              g.caption,
            )}</figcaption>${g.png ? `<img alt="generated for: ${esc(g.caption)}" src="data:image/png;base64,${g.png}" width="96" height="96">` : ''}</figure>`,
        )
        .join('')}</div>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#111}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}th[scope=row]{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
figure{margin:0;border:1px solid #eee;padding:8px;font-size:12px}figure img{image-rendering:pixelated;display:block;margin-bottom:4px}
figure.generation figcaption{margin-bottom:4px}
.scroll{overflow-x:auto}.tag{background:#fde68a;padding:0 4px;border-radius:3px;font-size:11px}.ref{color:#555}
</style></head><body>
<h1>${esc(input.title)}</h1>${input.subtitle ? `<p>${esc(input.subtitle)}</p>` : ''}
<h2>Metrics</h2><div class="scroll">${table}</div>${highlights}${naming}
<h2>${esc(headline)} by model</h2>${barChart(input.models, headline)}
<h2>Training curves</h2>${curves(input.models)}
${diversity}${timings}${samples}${generations}
</body></html>
`;
}
