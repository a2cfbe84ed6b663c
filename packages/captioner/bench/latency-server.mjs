// A local chat-completions server answering every request after a fixed latency (run as its own process so that
// its work does not count as client overhead). Prints its base URL on stdout.
import { startChatCompletionsServer } from '../dist/test/index.js';

const latencyMs = Number(process.argv[2] ?? 50);
// Varied captions (like an LLM's), so duplicate removal behaves as in real runs.
const pick = (list, k) => list[k % list.length];
const subjects = ['a {}', 'a small {}', 'a black {}', 'a brown {}', 'a white {}', 'a large {}', 'an old {}', 'a young {}', 'a fluffy {}', 'a sleepy {}'];
const verbs = ['sitting', 'lying', 'standing', 'sleeping', 'playing', 'running', 'resting', 'waiting', 'eating', 'looking out'];
const preps = ['on', 'next to', 'under', 'near', 'behind', 'in front of', 'beside', 'inside'];
const things = ['a wooden bench', 'a red sofa', 'a kitchen table', 'a parked car', 'a brick wall', 'a window', 'a garden fence', 'a blue blanket', 'a tree', 'an open door', 'a pile of leaves', 'a bicycle'];
const tails = ['', ' in the afternoon sun', ' on a rainy day', ' in a quiet street', ' at the park', ' in a living room', ' by the sea', ' in the snow'];
let serial = 0;
const server = await startChatCompletionsServer((req) => ({
  delayMs: latencyMs,
  contents: Array.from({ length: req.n ?? 1 }, () => {
    const concept = /object\(s\): (.+?)\. The caption/.exec(req.messages.at(-1).content)?.[1] ?? 'dog';
    const k = serial++;
    let h = Math.imul(k + 1, 2654435761) >>> 0;
    const next = () => ((h = Math.imul(h ^ (h >>> 15), 2246822507) >>> 0), h);
    return `${pick(subjects, next()).replace('{}', concept)} ${pick(verbs, next())} ${pick(preps, next())} ${pick(things, next())}${pick(tails, next())}`;
  }),
  usage: { prompt: 48, completion: 14 * (req.n ?? 1) },
}));
process.stdout.write(`${server.baseURL}\n`);
setInterval(() => process.stderr.write(`connections ${server.connections} requests ${server.requests.length}\n`), 2000).unref();
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});
