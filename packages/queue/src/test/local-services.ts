import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChatCompletionsServer } from '@synth2/captioner/test';

/** Whether `redis-server` is installed. */
export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/**
 * Whether tests that need Redis and a built file (`built`, e.g. the worker script) can run; when not, prints why
 * (`[skip] <what>: …`) so a skipped suite says what to install or build.
 */
export function redisTestsReady(what: string, built: string): boolean {
  const redis = haveRedis();
  const ok = redis && existsSync(built);
  if (!ok) console.warn(`[skip] ${what}: ${redis ? `build the package first (${built} missing)` : 'redis-server not installed (apt-get install redis-server)'}`);
  return ok;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Starts a throwaway redis-server on loopback (no persistence). */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'synth2-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/**
 * A local chat-completions server (the captioner's test server) whose answer is a deterministic function of the
 * prompt, so a local and a distributed run must produce the same captions; `latencyMs` delays every answer.
 */
export async function startChatServer(latencyMs = 0): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const words = ['wooden', 'bright', 'small', 'tall', 'old', 'shiny', 'round', 'quiet'];
  const server = await startChatCompletionsServer((req) => {
    const prompt = req.messages.map((m) => m.content).join('\n');
    const concepts = /object\(s\):\s*([^;.\n]+)/i.exec(prompt)?.[1]?.trim() ?? 'something';
    const h = createHash('sha256').update(prompt).digest('hex');
    const pick = (at: number) => words[parseInt(h.slice(at, at + 2), 16) % words.length];
    const contents = Array.from({ length: req.n ?? 1 }, (_, i) => `A ${pick(i * 2)} ${concepts} standing near a ${pick(8 + i * 2)} wall ${h.slice(20, 26)}`);
    return { contents, usage: { prompt: 20, completion: 12 }, delayMs: latencyMs };
  });
  return { url: server.baseURL, requests: () => server.requests.length, close: () => server.close() };
}

/** Starts the queue worker script against a Redis URL, collecting its output lines in `lines`. */
export function spawnWorker(workerScript: string, redisUrl: string, env: Record<string, string>, extra: string[] = []): ChildProcess & { lines: string[] } {
  const proc = spawn(process.execPath, [workerScript, '--queue', redisUrl, ...extra], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { lines: string[] };
  proc.lines = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    proc.lines.push(...parts.filter(Boolean));
  });
  proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[worker ${proc.pid}] ${d}`));
  return proc;
}

/** Resolves once a worker spawned by {@link spawnWorker} has printed a line containing `text`. */
export function waitForWorkerLine(proc: ChildProcess & { lines: string[] }, text: string, timeoutMs = 60_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const started = Date.now();
    const t = setInterval(() => {
      if (proc.lines.some((l) => l.includes(text))) {
        clearInterval(t);
        resolve();
      } else if (proc.exitCode !== null || Date.now() - started > timeoutMs) {
        clearInterval(t);
        reject(new Error(`worker ${proc.pid} never printed ${JSON.stringify(text)} (exit code ${proc.exitCode}); its output:\n${proc.lines.join('\n')}`));
      }
    }, 2);
  });
}
