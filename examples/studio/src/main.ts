import {
  captionPixels,
  generateSamples,
  loadStudio,
  parseBackend,
  testImagePixels,
  type Captions,
  type Generation,
  type SamplingSettings,
  type StudioModels,
} from './models';

/** What the page exposes for scripts and tests: the loaded models' timings and the last outputs. */
interface StudioApi {
  ready: Promise<void>;
  models?: StudioModels;
  timings: { loadSeconds?: number; firstGenerationSeconds?: number };
  lastGeneration?: Omit<Generation, 'images'>;
  lastCaptions?: Captions & { image: string; heldOut: boolean };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const api: StudioApi = { ready: Promise.resolve(), timings: {} };
(window as unknown as { studio: StudioApi }).studio = api;

function setStatus(text: string, state: string): void {
  const el = $('status');
  el.textContent = text;
  el.dataset.state = state;
}

function drawPixels(pixels: Float32Array, size: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) img.data[i * 4 + c] = Math.round(Math.min(1, Math.max(0, pixels[i * 3 + c])) * 255);
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function figure(canvas: HTMLCanvasElement, label: string, className = ''): HTMLElement {
  const fig = document.createElement('figure');
  const cap = document.createElement('figcaption');
  cap.textContent = label;
  if (className) cap.className = className;
  fig.append(canvas, cap);
  return fig;
}

function settings(): SamplingSettings {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  return {
    samples: Math.max(1, Math.min(16, Math.round(num('samples')))),
    seed: Math.round(num('seed')),
    steps: Math.max(1, Math.round(num('steps'))),
    temperature: num('temperature'),
    guidanceScale: num('guidance'),
    choiceTemperature: num('choice-temperature'),
  };
}

async function onGenerate(models: StudioModels): Promise<void> {
  const status = $('generate-status');
  const caption = ($('caption') as HTMLInputElement).value.trim();
  status.className = 'note';
  status.dataset.state = 'running';
  status.textContent = 'Generating…';
  try {
    const result = await generateSamples(models, caption, settings());
    api.timings.firstGenerationSeconds ??= result.seconds;
    const { images, ...rest } = result;
    api.lastGeneration = rest;
    $('samples-out').replaceChildren(...images.map((px, i) => figure(drawPixels(px, result.size), `sample ${i + 1}`)));
    status.textContent = `${images.length} samples in ${result.seconds.toFixed(2)} s`;
    status.dataset.state = 'done';
  } catch (error) {
    status.className = 'note error';
    status.textContent = (error as Error).message;
    status.dataset.state = 'error';
  }
}

async function showCaptions(models: StudioModels, pixels: Float32Array, image: string, heldOut: boolean): Promise<void> {
  const out = $('caption-out');
  out.dataset.state = 'running';
  const decode = ($('decode') as HTMLSelectElement).value as 'greedy' | 'beam';
  try {
    const result = await captionPixels(models, pixels, decode);
    api.lastCaptions = { ...result, image, heldOut };
    const dl = document.createElement('dl');
    const row = (k: string, v: string, cls = '') => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      if (cls) dd.className = cls;
      dl.append(dt, dd);
    };
    row('Image', image);
    if (heldOut) row('Held out', 'this image shows a colour–shape pair no human caption in training named', 'held-out');
    row('Baseline', result.baseline);
    row('Synth²', result.synth2);
    out.replaceChildren(drawPixels(pixels, models.testImages.size), dl);
    out.dataset.state = 'done';
  } catch (error) {
    out.textContent = (error as Error).message;
    out.dataset.state = 'error';
  }
}

function showTestImages(models: StudioModels): void {
  const gallery = $('test-images');
  for (const item of models.testImages.items) {
    const fig = figure(drawPixels(testImagePixels(models, item.index), models.testImages.size), item.heldOut ? 'held out' : '', item.heldOut ? 'held-out' : '');
    fig.dataset.index = String(item.index);
    fig.title = item.captions[0] ?? item.imageId;
    fig.addEventListener('click', () => {
      gallery.querySelectorAll('figure.selected').forEach((f) => f.classList.remove('selected'));
      fig.classList.add('selected');
      void showCaptions(models, testImagePixels(models, item.index), item.imageId, item.heldOut);
    });
    gallery.append(fig);
  }
}

/** A dropped image file, centre-cropped and resized to the tokenizer's size, as floats in [0, 1]. */
async function filePixels(file: File, size: number): Promise<Float32Array> {
  const bitmap = await createImageBitmap(file);
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const out = new Float32Array(size * size * 3);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = rgba[i * 4 + c] / 255;
  return out;
}

function setUpDrop(models: StudioModels): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) void filePixels(file, models.testImages.size).then((px) => showCaptions(models, px, file.name, false));
  });
}

const METRICS = ['Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'SPICE'];

function showMetrics(results: unknown): void {
  const models = (results as { models?: Record<string, { all?: Record<string, number>; heldOut?: Record<string, number>; heldOutPairRecall?: number }> })?.models;
  if (!models) {
    $('metrics-out').textContent = 'results.json has no model scores.';
    return;
  }
  const names = Object.keys(models);
  const present = METRICS.filter((m) => names.some((n) => models[n].all?.[m] !== undefined));
  const table = document.createElement('table');
  const head = ['metric', ...names.flatMap((n) => [`${n} (all)`, `${n} (held-out)`])];
  table.createTHead().insertRow().append(...head.map((h) => Object.assign(document.createElement('th'), { textContent: h })));
  const body = table.createTBody();
  const fmt = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(3));
  for (const m of present) {
    const row = body.insertRow();
    row.insertCell().textContent = m;
    for (const n of names) {
      row.insertCell().textContent = fmt(models[n].all?.[m]);
      row.insertCell().textContent = fmt(models[n].heldOut?.[m]);
    }
  }
  const recall = body.insertRow();
  recall.insertCell().textContent = 'held-out pair recall';
  for (const n of names) {
    recall.insertCell().textContent = '';
    recall.insertCell().textContent = fmt(models[n].heldOutPairRecall);
  }
  $('metrics-out').replaceChildren(table, ciderChart(names, models));
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const SPLIT_COLOURS = { all: '#4c78a8', heldOut: '#f58518' } as const;

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** CIDEr of every model on all test images and on the held-out ones, as grouped bars with a legend. */
function ciderChart(
  names: string[],
  models: Record<string, { all?: Record<string, number>; heldOut?: Record<string, number> }>,
): SVGElement {
  const W = Math.max(440, 120 + names.length * 110);
  const H = 220;
  const base = H - 40;
  const values = names.flatMap((n) => [models[n].all?.CIDEr ?? 0, models[n].heldOut?.CIDEr ?? 0]);
  const top = Math.max(...values, 1e-9);
  const chart = svg('svg', { id: 'cider-chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'CIDEr by model' });
  names.forEach((n, i) => {
    (['all', 'heldOut'] as const).forEach((split, j) => {
      const v = models[n][split]?.CIDEr;
      if (v === undefined) return;
      const h = ((base - 30) * v) / top;
      const x = 40 + i * 110 + j * 42;
      chart.append(svg('rect', { x, y: base - h, width: 38, height: h, fill: SPLIT_COLOURS[split] }));
      chart.append(svg('text', { x: x + 19, y: base - h - 4, 'text-anchor': 'middle', 'font-size': 11 }, v.toFixed(2)));
    });
    chart.append(svg('text', { x: 40 + i * 110 + 40, y: base + 16, 'text-anchor': 'middle', 'font-size': 12 }, n));
  });
  chart.append(svg('line', { x1: 30, y1: base, x2: W - 10, y2: base, stroke: '#999' }));
  (['all', 'heldOut'] as const).forEach((split, j) => {
    chart.append(svg('rect', { x: 40 + j * 150, y: H - 16, width: 12, height: 12, fill: SPLIT_COLOURS[split] }));
    chart.append(svg('text', { x: 56 + j * 150, y: H - 6, 'font-size': 12 }, split === 'all' ? 'CIDEr, all test images' : 'CIDEr, held-out compositions'));
  });
  return chart;
}

/** The backend picker: shows the page's `?backend=` and reloads the page with the one the user picks. */
function setUpBackendPicker(): void {
  const picker = $('backend') as HTMLSelectElement;
  picker.value = new URLSearchParams(location.search).get('backend') ?? 'auto';
  picker.addEventListener('change', () => {
    const url = new URL(location.href);
    if (picker.value === 'auto') url.searchParams.delete('backend');
    else url.searchParams.set('backend', picker.value);
    location.assign(url);
  });
}

async function start(): Promise<void> {
  setUpBackendPicker();
  const backend = parseBackend(new URLSearchParams(location.search).get('backend'));
  const models = await loadStudio(new URL('./', location.href), backend);
  api.models = models;
  api.timings.loadSeconds = models.loadSeconds;
  setStatus(`${models.backend.name} backend · models loaded in ${models.loadSeconds.toFixed(2)} s`, 'ready');
  $('backend-reason').textContent = `Why ${models.backend.name}: ${models.backend.reason}`;
  const first = models.testImages.items[0]?.captions[0];
  if (first) ($('caption') as HTMLInputElement).value = first;
  $('generate-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void onGenerate(models);
  });
  ($('generate-button') as HTMLButtonElement).disabled = false;
  showTestImages(models);
  setUpDrop(models);
  showMetrics(models.results);
}

api.ready = start().catch((error) => {
  setStatus(`Could not load the models: ${(error as Error).message}`, 'error');
  throw error;
});
