// Cost of sharded-store verification (sha256 of every shard against its manifest) on the read paths.
// Needs the built package (`npx tsup`); writes bench-results/store-verify.json. Usage: node scripts/bench-store-verify.mjs
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { ShardedTensorWriter, ShardedTensorReader, verifyShardedStore } = await import(
  join(here, '..', 'dist', 'index.js')
);

/** Store sizes: the demo's generated set, and a larger run (F32 embeddings, 1024 items per shard). */
const STORES = [
  { name: 'demo', items: 1500, shape: [64, 32] },
  { name: 'large', items: 20000, shape: [64, 64] },
];
const REPEATS = 5;
/** Random item reads per run: most miss the 2-shard cache and read a whole shard. */
const RANDOM_READS = 200;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median seconds of `a` and of `b`, run alternately so that load changes on the machine hit both alike. */
async function timedPair(a, b) {
  const runs = { a: [], b: [] };
  for (let r = 0; r < REPEATS; r++) {
    for (const [key, fn] of [
      ['a', a],
      ['b', b],
    ]) {
      const t0 = performance.now();
      await fn();
      runs[key].push((performance.now() - t0) / 1000);
    }
  }
  return [median(runs.a), median(runs.b)];
}

async function writeStore(dir, { items, shape }) {
  const per = shape[0] * shape[1];
  const w = await ShardedTensorWriter.open(dir, {
    kind: 'image-embeddings',
    tensors: { embeddings: { dtype: 'F32', shape } },
    shardSize: 1024,
  });
  for (let start = 0; start < items; start += 1024) {
    const n = Math.min(1024, items - start);
    const data = new Float32Array(n * per);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(start * per + i);
    await w.append(
      Array.from({ length: n }, (_, k) => `c-${start + k}`),
      { embeddings: data },
    );
  }
  return w.close();
}

/** Random item reads through a 2-shard cache (the random-access pattern of a training loop). */
async function randomReads(dir, verify) {
  const reader = await ShardedTensorReader.open(dir, { verify });
  let seed = 1;
  for (let i = 0; i < RANDOM_READS; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    await reader.read(seed % reader.length);
  }
}

const root = await mkdtemp(join(tmpdir(), 'synth2-bench-verify-'));
const results = [];
try {
  for (const store of STORES) {
    const dir = join(root, store.name);
    const manifest = await writeStore(dir, store);
    const bytes = manifest.shards.reduce((s, x) => s + x.bytes, 0);
    const [loadUnverified, loadVerified] = await timedPair(
      async () => (await ShardedTensorReader.open(dir, { verify: false })).loadAll(),
      async () => (await ShardedTensorReader.open(dir)).loadAll(),
    );
    const [verifyStreaming] = await timedPair(
      () => verifyShardedStore(dir),
      async () => {},
    );
    const [randomUnverified, randomVerified] = await timedPair(
      () => randomReads(dir, false),
      () => randomReads(dir, true),
    );
    const row = {
      store: store.name,
      items: store.items,
      itemShape: store.shape,
      shards: manifest.shards.length,
      megabytes: bytes / 1e6,
      loadAllSeconds: {
        unverified: loadUnverified,
        verified: loadVerified,
        overhead: loadVerified / loadUnverified - 1,
      },
      verifyShardedStoreSeconds: verifyStreaming,
      verifyMegabytesPerSecond: bytes / 1e6 / verifyStreaming,
      randomReads: {
        reads: RANDOM_READS,
        unverifiedSeconds: randomUnverified,
        verifiedSeconds: randomVerified,
        overhead: randomVerified / randomUnverified - 1,
      },
    };
    results.push(row);
    console.log(JSON.stringify(row));
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
const out = {
  benchmark: 'store-verify',
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadavg: loadavg(),
  note: 'median of 5, unverified and verified runs alternating; files in the page cache (just written); overhead = verified / unverified - 1',
  results,
};
await mkdir(join(here, '..', 'bench-results'), { recursive: true });
await writeFile(join(here, '..', 'bench-results', 'store-verify.json'), `${JSON.stringify(out, null, 2)}\n`);
