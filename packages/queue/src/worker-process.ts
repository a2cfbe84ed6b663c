#!/usr/bin/env node
/**
 * A standalone queue worker: `node worker-process.js --queue redis://127.0.0.1:6379 [--name synth2] [--concurrency 4]
 * [--endpoint NAME=URL]… [--allow-plugin PACKAGE]… [--data-root DIR]…`. `synth2 worker` runs the same code. Stops
 * cleanly on SIGINT/SIGTERM (the current job finishes).
 */
import { DEFAULT_QUEUE_NAME, parseRedisUrl, runWorker } from './queue';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Every value of a repeatable flag. */
function args(name: string): string[] {
  return process.argv.flatMap((a, i) =>
    a === `--${name}` && i + 1 < process.argv.length ? [process.argv[i + 1]] : [],
  );
}

/** `--endpoint NAME=URL` flags as the worker's named endpoints. */
function endpointArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of args('endpoint')) {
    const eq = spec.indexOf('=');
    if (eq <= 0) {
      console.error(`--endpoint takes NAME=URL (e.g. --endpoint llm=http://10.0.0.5:8000/v1), got "${spec}"`);
      process.exit(2);
    }
    out[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return out;
}

const url = arg('queue', process.env.SYNTH2_REDIS_URL);
if (!url) {
  console.error(
    'usage: worker-process --queue redis://host:port [--name synth2] [--concurrency N] [--rate-max N --rate-ms MS] [--endpoint NAME=URL]… [--allow-plugin PACKAGE]… [--data-root DIR]…',
  );
  process.exit(2);
}
const rateMax = arg('rate-max');
const { close } = runWorker({
  connection: parseRedisUrl(url),
  queueName: arg('name', DEFAULT_QUEUE_NAME),
  concurrency: Number(arg('concurrency', '1')),
  limiter: rateMax ? { max: Number(rateMax), duration: Number(arg('rate-ms', '1000')) } : undefined,
  lockDuration: Number(arg('lock-ms', '5000')),
  endpoints: endpointArgs(),
  allowedPlugins: args('allow-plugin'),
  dataRoots: args('data-root').length ? args('data-root') : undefined,
  onJob: (e) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...e })}\n`),
});
process.stdout.write(`${JSON.stringify({ pid: process.pid, status: 'ready' })}\n`);
const stop = async () => {
  await close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
