import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { initBackend, tf } from '@synth2/nn';
import { CaptionTokenGenerator, VQTokenizer } from '@synth2/generator';
import { CaptioningVLM } from '@synth2/vlm';
import { parseSafetensors } from '@synth2/core';
import { GPU_BACKEND_PACKAGES, isInstalled } from '../vite.config';

const here = dirname(fileURLToPath(import.meta.url));
const studioDist = join(here, '..', 'dist');
const artifacts = join(here, '..', 'test-artifacts');
const bin = join(here, '..', '..', '..', 'packages', 'cli', 'dist', 'bin.js');
const CHROMIUM = '/usr/bin/chromium';

/** A miniature run: every stage for real, at sizes that take seconds. */
const TINY = [
  '--data.train', '48', '--data.val', '8', '--data.test', '24',
  '--tokenizer.steps', '15', '--generator.steps', '15',
  '--captions.count', '40', '--vlm.steps', '12', '--vlm.evalEvery', '12', '--vlm.batchSize', '16',
];

const skipReason = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)`
  : !existsSync(bin)
    ? `${bin} is missing (build the CLI: npx turbo run build --filter=@synth2/cli)`
    : !existsSync(join(studioDist, 'index.html'))
      ? `${studioDist} is missing (npm run build -w examples/studio)`
      : undefined;
if (skipReason) console.warn(`studio browser test skipped: ${skipReason}`);

function synth2(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('close', (code) => done({ code: code ?? -1, output }));
  });
}

const MIME: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

/** A static file server for `root` on 127.0.0.1 (what `npx vite preview` or any static server does). */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = resolve(root, `.${decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)}`);
    const file = path.endsWith(sep) || path === root ? join(path, 'index.html') : path;
    const ok = file.startsWith(root + sep) && (await stat(file).then((s) => s.isFile(), () => false));
    if (!ok) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

/** The GPU backend packages this build of the page bundled (the others load as modules that throw, saying so). */
const bundled = Object.fromEntries(GPU_BACKEND_PACKAGES.map((pkg) => [pkg.replace('@tensorflow/tfjs-backend-', ''), isInstalled(pkg)]));

/**
 * How far the browser's floats may be from Node's (wasm) for the same checkpoint and seed: wasm runs the same kernels;
 * webgl / webgpu sum in another order in float32 shaders.
 */
const TOLERANCE: Record<string, number> = { wasm: 1e-5, cpu: 1e-5, webgl: 1e-3, webgpu: 1e-3 };

interface PageBackend {
  name: string;
  reason: string;
}

/** Waits until the page has loaded its models (or shown why it could not). */
async function waitForStudio(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as never as { studio?: { timings: { loadSeconds?: number } } }).studio?.timings.loadSeconds !== undefined || document.getElementById('status')?.dataset.state === 'error', undefined, { timeout: 120_000 });
}

const pageBackend = (page: Page) => page.evaluate(() => {
  const b = (window as never as { studio: { models: { backend: { name: string; reason: string } } } }).studio.models.backend;
  return { name: b.name, reason: b.reason };
});

/** What nn's browser backend treats as a software renderer (skipped in auto mode: slower than wasm). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software rasterizer|basic render driver/i;

/** The page's WebGL 2 renderer (unmasked where the browser allows), or undefined without WebGL 2. */
const webglRenderer = (page: Page) => page.evaluate(() => {
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return undefined;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(skipReason !== undefined)('the exported studio in headless Chromium', () => {
  let root: string;
  let out: string;
  let run: string;
  let browser: BrowserContext;
  let page: Page;
  let server: Server;
  let url: string;
  let backend: PageBackend;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'synth2-studio-'));
    run = process.env.SYNTH2_STUDIO_RUN ?? join(root, 'run');
    if (!process.env.SYNTH2_STUDIO_RUN) {
      const trained = await synth2(['run', '--out', run, '--seed', '3', '--json', ...TINY]);
      expect(trained.code, trained.output.slice(-2000)).toBe(0);
    }
    out = join(root, 'export');
    const exported = await synth2(['export', run, '--out', out, '--studio', studioDist]);
    expect(exported.code, exported.output).toBe(0);
    const served = await serve(out);
    server = served.server;
    await mkdir(artifacts, { recursive: true });
    // a fresh profile directory (playwright passes it as --user-data-dir)
    browser = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      // WebGL through SwiftShader (software), as on a machine without a GPU; this Chromium exposes no WebGPU
      args: [
        '--headless',
        '--no-sandbox',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    url = served.url;
    await page.goto(url);
    await waitForStudio(page);
    // the models ran on tfjs-node-free Node too: same engine (wasm, portable kernels) for the comparisons
    await initBackend({ backend: 'wasm', native: false, log: () => {} });
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('should pick webgl where the page bundled it and the browser has a hardware WebGL, else fall back to wasm, and say why', async () => {
    const status = await page.locator('#status').textContent();
    expect(await page.locator('#status').getAttribute('data-state'), status ?? '').toBe('ready');
    backend = await pageBackend(page);
    console.log(`studio: backend ${backend.name}: ${backend.reason}`);
    const webgl = await webglRenderer(page);
    const expected = bundled.webgl && webgl && !SOFTWARE_RENDERER.test(webgl) ? 'webgl' : 'wasm';
    expect(backend.name, backend.reason).toBe(expected);
    expect(status).toMatch(new RegExp(`^${expected} backend · models loaded in`));
    expect(await page.locator('#backend-reason').textContent()).toBe(`Why ${backend.name}: ${backend.reason}`);
    expect(await page.locator('#backend').inputValue()).toBe('auto');
    // this Chromium has no WebGPU: skipped before its package is fetched
    expect(backend.reason).toMatch(/^auto: webgpu: this browser has no WebGPU (\(navigator\.gpu is absent\)|adapter); /);
    if (expected === 'webgl') {
      expect(backend.reason).toMatch(/; WebGL 2 \(.+\), float32 textures$/);
    } else {
      const why = !webgl
        ? 'this browser gives no WebGL context (GPU disabled or blocklisted)'
        : SOFTWARE_RENDERER.test(webgl)
          ? `WebGL 2 (${webgl}) is a software renderer, slower than wasm`
          : '@tensorflow/tfjs-backend-webgl failed to load (@tensorflow/tfjs-backend-webgl was not installed when this page was built (npm install @tensorflow/tfjs-backend-webgl -w examples/studio, then rebuild))';
      expect(backend.reason).toContain(`; webgl: ${why}; SIMD on, 1 thread`);
    }
    const timings = await page.evaluate(() => (window as never as { studio: { timings: { loadSeconds: number } } }).studio.timings);
    console.log(`studio: first model load ${timings.loadSeconds.toFixed(2)} s (${backend.name}, headless Chromium)`);
    expect(await page.locator('#metrics-out tbody tr').count()).toBeGreaterThan(1);
    expect(await page.locator('#cider-chart rect').count()).toBeGreaterThan(2);
    expect(consoleErrors).toEqual([]);
  });

  /** Generates 3 samples in the page and checks tokens (exactly) and embeddings against Node's for the same seed. */
  async function checkGeneration(screenshot: string): Promise<void> {
    const items = JSON.parse(await readFile(join(out, 'test-images', 'items.json'), 'utf8')) as { captions: string[] }[];
    const generator = await CaptionTokenGenerator.load(join(out, 'models', 'generator'));
    const tokenizer = await VQTokenizer.load(join(out, 'models', 'tokenizer'));
    const caption = items.flatMap((it) => it.captions).find((c) => {
      try {
        generator.encodeCaptions([c]);
        return true;
      } catch {
        return false;
      }
    })!;
    expect(caption).toBeTruthy();
    await page.fill('#caption', caption);
    await page.fill('#samples', '3');
    await page.fill('#seed', '7');
    await page.click('#generate-button');
    await page.waitForSelector('#generate-status[data-state="done"], #generate-status[data-state="error"]', { timeout: 600_000 });
    expect(await page.locator('#generate-status').getAttribute('data-state'), (await page.locator('#generate-status').textContent()) ?? '').toBe('done');
    expect(await page.locator('#samples-out canvas').count()).toBe(3);
    await page.screenshot({ path: join(artifacts, screenshot), fullPage: true });
    const browserGen = await page.evaluate(() => (window as never as { studio: { lastGeneration: { tokens: number[]; embeddings: number[]; seconds: number } } }).studio.lastGeneration);
    console.log(`studio: one generation (3 samples) ${browserGen.seconds.toFixed(2)} s (${backend.name}, headless Chromium)`);

    const ids = await generator.generateTokens([caption, caption, caption], { seed: 7, steps: 8, temperature: 1, guidanceScale: 2, choiceTemperature: 1 });
    const emb = tokenizer.embed(ids);
    const [nodeTokens, nodeEmb] = [Array.from(await ids.data()), await emb.data()];
    tf.dispose([ids, emb]);
    expect(browserGen.tokens).toEqual(nodeTokens);
    const embDiff = maxAbsDiff(browserGen.embeddings, nodeEmb);
    console.log(`studio: generated embeddings, max |browser - Node| = ${embDiff.toExponential(2)} (${backend.name})`);
    expect(embDiff).toBeLessThanOrEqual(TOLERANCE[backend.name]!);
    generator.dispose();
    tokenizer.dispose();
    expect(consoleErrors).toEqual([]);
  }

  it('should generate images for a caption with the same tokens as Node for the same checkpoint and seed', async () => {
    await checkGeneration('generate.png');
  });

  /** Captions the first test image in the page and checks its embedding and both VLMs' greedy captions against Node's. */
  async function checkCaptions(screenshot: string): Promise<void> {
    const items = JSON.parse(await readFile(join(out, 'test-images', 'items.json'), 'utf8')) as { index: number; heldOut: boolean }[];
    const first = items[0];
    await page.click(`#test-images figure[data-index="${first.index}"]`);
    await page.waitForSelector('#caption-out[data-state="done"], #caption-out[data-state="error"]', { timeout: 600_000 });
    expect(await page.locator('#caption-out').getAttribute('data-state'), (await page.locator('#caption-out').textContent()) ?? '').toBe('done');
    await page.screenshot({ path: join(artifacts, screenshot), fullPage: true });
    const got = await page.evaluate(() => (window as never as { studio: { lastCaptions: { embedding: number[]; baseline: string; synth2: string; heldOut: boolean; seconds: number } } }).studio.lastCaptions);
    console.log(`studio: captions of one image (both VLMs, greedy) ${got.seconds.toFixed(2)} s (${backend.name}, headless Chromium)`);
    expect(got.heldOut).toBe(first.heldOut);
    expect(await page.locator('#caption-out .held-out').count()).toBe(first.heldOut ? 1 : 0);

    const tokenizer = await VQTokenizer.load(join(out, 'models', 'tokenizer'));
    const pixels = parseSafetensors(await readFile(join(out, 'test-images', 'images.safetensors'))).tensors.images;
    const S = pixels.shape[1];
    const per = S * S * 3;
    const image = Float32Array.from((pixels.data as Uint8Array).subarray(first.index * per, (first.index + 1) * per), (v) => v / 255);
    const emb = tf.tidy(() => tokenizer.embed(tokenizer.encode({ data: image, shape: [1, S, S, 3] } as never)));
    const data = { data: (await emb.data()) as Float32Array, shape: emb.shape as [number, number, number] };
    emb.dispose();
    const embDiff = maxAbsDiff(got.embedding, data.data);
    console.log(`studio: test image embedding, max |browser - Node| = ${embDiff.toExponential(2)} (${backend.name})`);
    expect(embDiff).toBeLessThanOrEqual(TOLERANCE[backend.name]!);
    for (const kind of ['baseline', 'synth2'] as const) {
      const vlm = await CaptioningVLM.load(join(out, 'models', `vlm-${kind}`));
      const [caption] = await vlm.caption(data, { strategy: 'greedy' });
      expect(got[kind], kind).toBe(caption);
      vlm.dispose();
    }
    tokenizer.dispose();
    expect(consoleErrors).toEqual([]);
  }

  it('should caption a test image like Node does, with the held-out marker where it applies', async () => {
    await checkCaptions('caption.png');
  });

  it('should let the user pick wasm in the page, say it was forced, and still generate what Node does', async () => {
    await Promise.all([page.waitForURL(/\?backend=wasm$/), page.selectOption('#backend', 'wasm')]);
    await waitForStudio(page);
    backend = await pageBackend(page);
    expect(backend).toEqual({ name: 'wasm', reason: 'forced by options.backend=wasm; SIMD on, 1 thread' });
    expect(await page.locator('#backend').inputValue()).toBe('wasm');
    expect(await page.locator('#backend-reason').textContent()).toBe('Why wasm: forced by options.backend=wasm; SIMD on, 1 thread');
    const timings = await page.evaluate(() => (window as never as { studio: { timings: { loadSeconds: number } } }).studio.timings);
    console.log(`studio: first model load ${timings.loadSeconds.toFixed(2)} s (wasm, forced, headless Chromium)`);
    await checkGeneration('generate-wasm.png');
  });

  it('should run on webgl when the user picks it (SwiftShader here) with Node\'s outputs, or say why it cannot', async () => {
    await page.goto(`${url}?backend=webgl`);
    await waitForStudio(page);
    const webgl = await webglRenderer(page);
    if (!bundled.webgl || !webgl) {
      expect(await page.locator('#status').getAttribute('data-state')).toBe('error');
      const why = !webgl ? 'this browser gives no WebGL context' : '@tensorflow/tfjs-backend-webgl failed to load (@tensorflow/tfjs-backend-webgl was not installed when this page was built';
      expect(await page.locator('#status').textContent()).toContain(`Could not load the models: backend "webgl" is unavailable: ${why}`);
      return;
    }
    consoleErrors.length = 0;
    backend = await pageBackend(page);
    expect(backend.name, backend.reason).toBe('webgl');
    expect(backend.reason).toBe(`forced by options.backend=webgl; WebGL 2 (${webgl}), float32 textures`);
    const timings = await page.evaluate(() => (window as never as { studio: { timings: { loadSeconds: number } } }).studio.timings);
    console.log(`studio: first model load ${timings.loadSeconds.toFixed(2)} s (webgl, forced, headless Chromium)`);
    await checkGeneration('generate-webgl.png');
    await checkCaptions('caption-webgl.png');
  }, 1_200_000);

  it('should show why a forced backend cannot start (webgpu: this Chromium has none)', async () => {
    await page.goto(`${url}?backend=webgpu`);
    await waitForStudio(page);
    expect(await page.locator('#status').getAttribute('data-state')).toBe('error');
    expect(await page.locator('#status').textContent()).toMatch(/^Could not load the models: backend "webgpu" is unavailable: this browser has no WebGPU/);
    expect(await page.locator('#backend').inputValue()).toBe('webgpu');
  });
});
