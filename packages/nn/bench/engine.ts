// Engine benchmark: `npm run bench:engine [-- --threads N] [--seconds S] [--only lm,generator] [--no-peers]`.
// Trains each workload (engine-workloads.ts) on the default path (`initBackend()` with no options but `threads`)
// in a fresh process for ≥ S seconds after warm-up and prints one JSON line per workload; then, when PyTorch is
// importable by /usr/bin/python3 (or $SYNTH2_PYTHON), runs its twin (bench/peers/engine_twins.py at the repository
// root: same shapes, optimizer and loss, torch.set_num_threads(N)) right after it and prints the ratio ours/torch.
// Writes packages/nn/bench-results/engine.json (atomically) with the CPU model.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type Workload = 'lm' | 'tokenizer' | 'generator';
const WORKLOADS: Workload[] = ['lm', 'tokenizer', 'generator'];

const here = dirname(fileURLToPath(import.meta.url)); // bench/.build when bundled
const pkgRoot = resolve(here, '..', '..');
const repoRoot = resolve(pkgRoot, '..', '..');
const args = process.argv.slice(2);

function option(name: string): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
}

function positive(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`bench:engine: --${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return v;
}

interface OursLine {
  workload: Workload;
  path: string;
  threads: number;
  stepsPerSec: number;
  cpuSecondsPerStep: number;
  steps: number;
  seconds: number;
  firstLoss: number;
  lastLoss: number;
  backend: string;
}

async function child(w: Workload, threads: number, seconds: number): Promise<void> {
  const { initBackend } = await import('../src/index');
  const { runWorkload } = await import('./engine-workloads');
  const info = await initBackend({ threads });
  const path = info.native ? (info.name === 'wasm' ? 'native' : info.name) : info.name;
  const t = await runWorkload(w, seconds);
  const line: OursLine = { workload: w, path, threads, stepsPerSec: round(t.stepsPerSec), cpuSecondsPerStep: round(t.cpuSecondsPerStep), steps: t.steps, seconds: round(t.seconds), firstLoss: round(t.firstLoss), lastLoss: round(t.lastLoss), backend: info.reason };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

function lastJson<T>(out: string): T {
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{'));
  if (!lines.length) throw new Error(`no JSON line in output:\n${out}`);
  return JSON.parse(lines[lines.length - 1]!) as T;
}

function python(): string {
  return process.env.SYNTH2_PYTHON ?? '/usr/bin/python3';
}

function torchVersion(): string | null {
  const r = spawnSync(python(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runOurs(w: Workload, threads: number, seconds: number): OursLine {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', w, '--threads', String(threads), '--seconds', String(seconds)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return lastJson<OursLine>(out);
}

interface PeerLine {
  workload: Workload;
  stepsPerSec: number;
  cpuSecondsPerStep: number;
  steps: number;
  threads: number;
}

function runPeer(w: Workload, threads: number, seconds: number): PeerLine {
  const script = join(repoRoot, 'bench', 'peers', 'engine_twins.py');
  // torch.set_num_threads does not bound the BLAS library's own pool (OpenBLAS pthreads): pin every pool to `threads`
  const pools = Object.fromEntries(
    ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'].map((k) => [k, String(threads)]),
  );
  const out = execFileSync(python(), [script, '--workload', w, '--threads', String(threads), '--seconds', String(seconds)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...pools },
  });
  return lastJson<PeerLine>(out);
}

function writeAtomic(file: string, data: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}

async function main(): Promise<void> {
  const threads = Math.round(positive('threads', 1));
  const seconds = positive('seconds', 10);
  const childW = option('child') as Workload | undefined;
  if (childW) return child(childW, threads, seconds);
  const only = option('only')?.split(',') ?? WORKLOADS;
  for (const w of only) if (!WORKLOADS.includes(w as Workload)) throw new Error(`bench:engine: unknown workload ${w}; use ${WORKLOADS.join(', ')}`);
  const torch = args.includes('--no-peers') ? null : torchVersion();
  if (!torch && !args.includes('--no-peers')) console.error(`bench:engine: PyTorch is not importable by ${python()}: no peer ratios (apt-get install python3-torch libopenblas0-pthread)`);
  const results: unknown[] = [];
  for (const w of only as Workload[]) {
    const ours = runOurs(w, threads, seconds);
    console.log(JSON.stringify({ workload: ours.workload, path: ours.path, threads: ours.threads, stepsPerSec: ours.stepsPerSec }));
    let peer: PeerLine | undefined;
    if (torch) {
      peer = runPeer(w, threads, seconds);
      const ratio = round(ours.stepsPerSec / peer.stepsPerSec);
      const cpuRatio = round(peer.cpuSecondsPerStep / ours.cpuSecondsPerStep);
      console.log(JSON.stringify({ workload: w, peer: `torch ${torch}`, threads, stepsPerSec: peer.stepsPerSec, ratio, cpuRatio }));
    }
    results.push({ ours, peer: peer ? { ...peer, torch } : null, ratio: peer ? round(ours.stepsPerSec / peer.stepsPerSec) : null });
  }
  const file = join(pkgRoot, 'bench-results', 'engine.json');
  const existing = existsSync(file) ? (JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')) as { runs?: unknown[] }) : {};
  const run = { date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, loadavgEnd: loadavg(), node: process.version, threads, seconds, results };
  // one entry per thread count: the latest run of each
  const runs = ((existing.runs ?? []) as { threads: number }[]).filter((r) => r.threads !== threads);
  writeAtomic(file, { note: 'npm run bench:engine; ratio = ours / torch steps/s in the same run', runs: [...runs, run].sort((a, b) => a.threads - b.threads) });
  console.error(`bench:engine: wrote ${file}`);
}

await main();
