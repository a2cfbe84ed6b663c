// Benchmark: caption synthesis against a local chat-completions server (50 ms latency) that injects faults at a
// seeded rate: resets mid-body, stalls after the headers, HTML, truncated JSON, empty choices, null content, 500s.
// For each fault rate, one run with the default synthesis settings (source timeout 1 s) and records whether it
// completed in one go, its wall time against the fault-free run, and the failed tries by reason.
// Writes bench-results/faults.json. BENCH_FAULT_COUNT (default 1000) captions per run.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpenAICaptionSource, synthesizeCaptions } from '../dist/index.js';
import { startFaultInjectingServer } from '../dist/test/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const COUNT = Number(process.env.BENCH_FAULT_COUNT ?? 1000);
const LATENCY_MS = 50;
const CONCURRENCY = 8;
const TIMEOUT_MS = 1000;

let serial = 0;
const handler = (req) => ({
  delayMs: LATENCY_MS,
  contents: Array.from({ length: req.n ?? 1 }, () => {
    const k = serial++;
    return `a dog number ${k} sitting next to bench ${k % 97} in park ${Math.floor(k / 97)}`;
  }),
});

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'synth2-captioner-faults-bench-'));
const rows = [];
try {
  for (const rate of [0, 0.1, 0.3, 0.5]) {
    const server = await startFaultInjectingServer(handler, { rate, seed: 1 });
    const out = path.join(tmp, `faults-${rate}.jsonl`);
    const load = os.loadavg()[0];
    const t0 = performance.now();
    let summary;
    let error;
    try {
      summary = await synthesizeCaptions({
        source: createOpenAICaptionSource({ baseURL: server.baseURL, maxConcurrency: CONCURRENCY, timeout: TIMEOUT_MS }),
        concepts: ['dog'],
        count: COUNT,
        out,
        dedupe: false,
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const seconds = (performance.now() - t0) / 1000;
    await server.close();
    const row = {
      faultRate: rate,
      count: COUNT,
      concurrency: CONCURRENCY,
      latencyMs: LATENCY_MS,
      timeoutMs: TIMEOUT_MS,
      loadavg1m: +load.toFixed(2),
      completedInOneGo: summary?.complete === true,
      error,
      seconds: +seconds.toFixed(2),
      written: summary?.written,
      requests: summary?.requests,
      failed: summary?.failed,
      failures: summary?.failures,
      abandoned: summary?.abandoned,
      serverRequests: server.requests.length,
      faultsServed: server.counts(),
    };
    rows.push(row);
    console.log(
      `fault rate ${rate}: ${row.completedInOneGo ? 'complete' : `NOT complete (${error})`} in ${row.seconds} s, ` +
        `${row.requests} requests, ${row.failed} failed ${JSON.stringify(row.failures)}, ${row.abandoned} given up`,
    );
  }
  const base = rows[0].seconds;
  for (const r of rows) r.slowdownVsFaultFree = +(r.seconds / base).toFixed(2);
  await fs.mkdir(path.join(here, '..', 'bench-results'), { recursive: true });
  await fs.writeFile(
    path.join(here, '..', 'bench-results', 'faults.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, rows }, null, 2)}\n`,
  );
} finally {
  await fs.rm(tmp, { recursive: true, force: true });
}
