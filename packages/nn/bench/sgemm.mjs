// SGEMM speed of the native addon against PyTorch at the LM's and the generator's shapes (sgemm-shapes.json),
// both on the same machine in the same run. Writes bench-results/sgemm.json and prints a table.
// Usage: node bench/sgemm.mjs [--threads N] [--seconds S] [--kernel avx512f|avx2|portable]
// Needs the built addon (npm install builds it); PyTorch (python3 with torch) is optional.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sgemmCases } from './sgemm-cases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const threads = Number(opt('threads', '1'));
const seconds = Number(opt('seconds', '0.5'));
const kernelName = opt('kernel', 'auto');
const python = process.env.PYTHON ?? '/usr/bin/python3';

const addonPath = join(here, '..', 'native', 'build', 'Release', 'synth2_native.node');
let addon;
try {
  addon = createRequire(import.meta.url)(addonPath);
} catch (e) {
  console.error(`bench/sgemm: the native addon is not built (${addonPath}): run npm install first. ${e.message}`);
  process.exit(1);
}
addon.setThreads(threads);
addon.setKernel(kernelName);

function random(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

/** Best GFLOP/s over repeated timed rounds of at least 2e8 flops each, for `seconds` in all. */
function ours(c) {
  const a = random(c.batch * c.m * c.k);
  const b = random(c.batch * c.k * c.n);
  const out = new Float32Array(c.batch * c.m * c.n);
  const call = () =>
    addon.sgemmBatched(c.ta, c.tb, c.m, c.n, c.k, c.batch, a, c.m * c.k, b, c.k * c.n, out, c.m * c.n);
  call();
  const flops = 2 * c.batch * c.m * c.n * c.k;
  const reps = Math.max(1, Math.floor(2e8 / flops));
  let best = Infinity;
  let spent = 0;
  while (spent < seconds) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) call();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    spent += dt;
    best = Math.min(best, dt / reps);
  }
  return flops / best / 1e9;
}

function torch(cases) {
  try {
    const out = execFileSync(python, [join(here, 'sgemm_torch.py'), String(threads), String(seconds)], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return JSON.parse(out);
  } catch (e) {
    console.error(`bench/sgemm: PyTorch not measured (${python} with torch: ${e.message.split('\n')[0]})`);
    return null;
  }
}

const cases = sgemmCases();
const rows = cases.map((c) => ({ ...c, ours: ours(c) }));
const peer = torch(cases);
for (const r of rows) {
  r.torch = peer ? peer.results[r.name] : null;
  r.ratio = r.torch ? r.ours / r.torch : null;
}
const result = {
  bench: 'sgemm',
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? 'unknown',
  threads,
  addon: addon.info(),
  torch: peer ? peer.torch : null,
  unit: 'GFLOP/s (2·m·n·k·batch per second, best round)',
  cases: rows.map(({ name, layer, op, batch, m, n, k, ours: o, torch: t, ratio }) => ({
    name,
    layer,
    op,
    batch,
    m,
    n,
    k,
    ours: Number(o.toFixed(1)),
    torch: t === null ? null : Number(t.toFixed(1)),
    ratio: ratio === null ? null : Number(ratio.toFixed(2)),
  })),
};
const outDir = join(here, '..', 'bench-results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, threads === 1 ? 'sgemm.json' : `sgemm-${threads}threads.json`);
writeFileSync(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`${result.addon} vs PyTorch ${result.torch ?? '(not measured)'}, ${threads} thread(s), GFLOP/s`);
for (const r of result.cases) {
  console.log(
    `${r.layer.padEnd(30)} ${r.name.padEnd(24)} ours ${String(r.ours).padStart(6)}  torch ${String(r.torch ?? '-').padStart(6)}  ${r.ratio ?? ''}`,
  );
}
console.log(`wrote ${file}`);
