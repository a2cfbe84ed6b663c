// Benchmark: generating shapes-world scenes (scene sampling + rendering + five captions).
// Target (issue 4): 10,000 32×32 scenes with captions in < 10 s. Writes bench-results/shapes-world.json.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { createShapesWorld, exportCocoFolder, loadCocoFolder, makeSplits } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 3);

function timeScenes(options, n) {
  const world = createShapesWorld(options);
  const t0 = performance.now();
  let bytes = 0;
  let captions = 0;
  for (let i = 0; i < n; i++) {
    const item = world.item(i);
    bytes += item.pixels.length;
    captions += item.captions.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, scenesPerSecond: n / seconds, captions, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const loadBefore = os.loadavg();
const cases = [
  { name: '10k scenes 32x32, 1-2 objects (demo world)', options: { seed: 1, imageSize: 32, maxObjects: 2 }, n: 10_000 },
  { name: '10k scenes 32x32, 1-3 objects, 3 sizes', options: { seed: 1, imageSize: 32, maxObjects: 3, sizes: 3 }, n: 10_000 },
  { name: '2k scenes 64x64, 1-2 objects', options: { seed: 1, imageSize: 64, maxObjects: 2 }, n: 2_000 },
];
const results = [];
// JIT warm-up so the first case is not charged for compilation (reported separately)
const coldStart = timeScenes({ seed: 99 }, 1000);
for (const c of cases) {
  const times = [];
  let last;
  for (let r = 0; r < runs; r++) {
    last = timeScenes(c.options, c.n);
    times.push(last.seconds);
  }
  results.push({
    name: c.name,
    options: c.options,
    scenes: c.n,
    captions: last.captions,
    seconds: { min: Math.min(...times), median: median(times), runs: times },
    scenesPerSecond: c.n / median(times),
  });
  console.log(`${c.name}: median ${median(times).toFixed(2)} s (min ${Math.min(...times).toFixed(2)} s)`);
}
const splitTimes = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  makeSplits({ train: 2000, val: 300, test: 300, holdOutFraction: 0.25, seed: 0 });
  splitTimes.push((performance.now() - t0) / 1000);
}
console.log(`demo splits (2000/300/300, 25% held out): median ${median(splitTimes).toFixed(2)} s`);

// COCO export of the demo's train split and reading it back (decoded through core/sharp)
const tmp = mkdtempSync(join(os.tmpdir(), 'synth2-bench-'));
const { train } = makeSplits({ train: 2000, holdOutFraction: 0.25, seed: 0 });
let t0 = performance.now();
await exportCocoFolder(train, join(tmp, 'train'));
const exportSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
let loaded = 0;
for await (const _ of loadCocoFolder(join(tmp, 'train'))) loaded++;
const loadSeconds = (performance.now() - t0) / 1000;
rmSync(tmp, { recursive: true, force: true });
console.log(`COCO export of 2,000 images: ${exportSeconds.toFixed(2)} s; loading them back: ${loadSeconds.toFixed(2)} s`);

const target = results[0].seconds.median;
const out = {
  benchmark: 'shapes-world',
  target: '10,000 32x32 scenes with 5 captions each in < 10 s',
  pass: target < 10,
  results,
  demoSplits: { train: 2000, val: 300, test: 300, holdOutFraction: 0.25, seconds: { min: Math.min(...splitTimes), median: median(splitTimes) } },
  coldStart1000: coldStart.seconds,
  cocoFolder: { images: 2000, exportSeconds, loadSeconds, loaded },
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavgBefore: loadBefore,
    loadavgAfter: os.loadavg(),
  },
  date: new Date().toISOString(),
};
const file = join(here, '..', 'bench-results', 'shapes-world.json');
mkdirSync(dirname(file), { recursive: true });
writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`wrote ${file}`);
