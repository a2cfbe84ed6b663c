#!/usr/bin/env node
/**
 * A standalone queue worker: `node worker-process.js --queue redis://127.0.0.1:6379 [--name synth2] [--concurrency 4]`.
 * `synth2 worker` runs the same code. Stops cleanly on SIGINT/SIGTERM (the current job finishes).
 */
import { DEFAULT_QUEUE_NAME, parseRedisUrl, runWorker } from './queue';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const url = arg('queue', process.env.SYNTH2_REDIS_URL);
if (!url) {
  console.error('usage: worker-process --queue redis://host:port [--name synth2] [--concurrency N] [--rate-max N --rate-ms MS]');
  process.exit(2);
}
const rateMax = arg('rate-max');
const { close } = runWorker({
  connection: parseRedisUrl(url),
  queueName: arg('name', DEFAULT_QUEUE_NAME),
  concurrency: Number(arg('concurrency', '1')),
  limiter: rateMax ? { max: Number(rateMax), duration: Number(arg('rate-ms', '1000')) } : undefined,
  lockDuration: Number(arg('lock-ms', '5000')),
  onJob: (e) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...e })}\n`),
});
process.stdout.write(`${JSON.stringify({ pid: process.pid, status: 'ready' })}\n`);
const stop = async () => {
  await close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
