import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

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
 * A local server speaking the chat-completions protocol. Its answer is a deterministic function of the prompt, so a
 * local and a distributed run must produce the same captions; `latencyMs` delays every answer.
 */
export async function startChatServer(latencyMs = 0): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      count++;
      const json = JSON.parse(body) as { messages: { content: string }[]; n?: number; model: string };
      const prompt = json.messages.map((m) => m.content).join('\n');
      const concepts = /object\(s\):\s*([^;.\n]+)/i.exec(prompt)?.[1]?.trim() ?? 'something';
      const h = createHash('sha256').update(prompt).digest('hex');
      const words = ['wooden', 'bright', 'small', 'tall', 'old', 'shiny', 'round', 'quiet'];
      const n = json.n ?? 1;
      const choices = Array.from({ length: n }, (_, i) => ({
        index: i,
        finish_reason: 'stop',
        message: {
          role: 'assistant',
          content: `A ${words[parseInt(h.slice(i * 2, i * 2 + 2), 16) % words.length]} ${concepts} standing near a ${words[parseInt(h.slice(8 + i * 2, 10 + i * 2), 16) % words.length]} wall ${h.slice(20, 26)}`,
        },
      }));
      const answer = JSON.stringify({
        id: `cmpl-${count}`,
        object: 'chat.completion',
        model: json.model,
        choices,
        usage: { prompt_tokens: 20, completion_tokens: 12, total_tokens: 32 },
      });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      }, latencyMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests: () => count,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

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
