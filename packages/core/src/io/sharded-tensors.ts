import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError, InvalidInputError } from '../errors';
import { fileError } from '../internal/file-error';
import { EmbeddingShardManifestSchema, type EmbeddingShardManifest, type ShardEntry } from '../schemas';
import { writeFileAtomic, writeJsonAtomic } from './atomic-write';
import { sha256File } from './file-hash';
import { readJson } from './json';
import { createPathResolver } from './safe-path';
import {
  SAFETENSORS_DTYPES,
  parseSafetensors,
  readSafetensorsHeader,
  serializeSafetensors,
  type SafetensorsDType,
  type SafetensorsTensor,
  type TensorData,
  type TensorToWrite,
} from './safetensors';

/** File name of a sharded store's manifest (`manifest.json`). */
export const SHARD_MANIFEST_FILE = 'manifest.json';

/** Per-item dtype and shape (without the leading item dimension) of one tensor of a sharded store. */
export interface ShardTensorSpec {
  dtype: SafetensorsDType;
  shape: number[];
}

/** Options of `ShardedTensorWriter.open`. */
export interface ShardedTensorWriterOptions {
  /** What the rows are, e.g. `image-embeddings`, `image-tokens`. */
  kind: string;
  /** The tensors every item has. */
  tensors: Record<string, ShardTensorSpec>;
  /** Items per shard file (default 1024). */
  shardSize?: number;
  /** Free-form metadata kept in the manifest (merged into an existing one on resume). */
  meta?: Record<string, unknown>;
  /**
   * Continue an existing store in `dir` (default true): appends go after its last complete shard. With false, an
   * existing store is deleted first.
   */
  resume?: boolean;
}

const shardFileName = (index: number) => `shard-${String(index).padStart(5, '0')}.safetensors`;
const SHARD_RE = /^shard-(\d{5,})\.safetensors$/;
const IDS_KEY = 'synth2.ids';

function itemSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function allocate(dtype: SafetensorsDType, n: number): TensorData {
  switch (dtype) {
    case 'F32':
    case 'F16':
      return new Float32Array(n);
    case 'I32':
      return new Int32Array(n);
    case 'U16':
      return new Uint16Array(n);
    case 'U8':
      return new Uint8Array(n);
  }
}

const INT_RANGE: Partial<Record<SafetensorsDType, [number, number]>> = {
  I32: [-2147483648, 2147483647],
  U16: [0, 65535],
  U8: [0, 255],
};

function validateSpec(tensors: Record<string, ShardTensorSpec>): void {
  const names = Object.keys(tensors ?? {});
  if (names.length === 0)
    throw new ConfigurationError('a sharded store needs at least one tensor in `tensors`.', {
      setting: 'tensors',
    });
  for (const name of names) {
    const t = tensors[name];
    if (!SAFETENSORS_DTYPES.includes(t?.dtype)) {
      throw new ConfigurationError(
        `tensor "${name}": unknown dtype ${JSON.stringify(t?.dtype)}; use one of ${SAFETENSORS_DTYPES.join(', ')}.`,
        {
          setting: `tensors.${name}.dtype`,
        },
      );
    }
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ConfigurationError(`tensor "${name}": shape must be an array of non-negative integers.`, {
        setting: `tensors.${name}.shape`,
      });
    }
  }
}

function sameSpec(a: Record<string, ShardTensorSpec>, b: Record<string, ShardTensorSpec>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return (
    ka.length === kb.length &&
    ka.every(
      (k, i) => k === kb[i] && a[k].dtype === b[k].dtype && a[k].shape.join(',') === b[k].shape.join(','),
    )
  );
}

/**
 * Writes items (an id plus one row per named tensor) into a directory of safetensors shards with a
 * `manifest.json` (`EmbeddingShardManifestSchema`). Each full shard is written atomically and the manifest is
 * rewritten atomically after it, so a crash loses at most the items not yet in a shard; reopening the directory
 * resumes after the last complete shard (a half-written or unlisted shard is ignored and replaced).
 */
export class ShardedTensorWriter {
  private pending: Record<string, TensorData> = {};
  private pendingIds: string[] = [];
  private closed = false;

  private constructor(
    readonly dir: string,
    private manifestValue: EmbeddingShardManifest,
    private readonly shardSize: number,
    private readonly idSet: Set<string>,
  ) {
    for (const [name, spec] of Object.entries(manifestValue.tensors)) {
      this.pending[name] = allocate(spec.dtype, shardSize * itemSize(spec.shape));
    }
  }

  static async open(dir: string, options: ShardedTensorWriterOptions): Promise<ShardedTensorWriter> {
    const shardSize = options.shardSize ?? 1024;
    if (!Number.isInteger(shardSize) || shardSize < 1) {
      throw new ConfigurationError(`shardSize must be a positive integer, got ${shardSize}.`, {
        setting: 'shardSize',
      });
    }
    if (!options.kind)
      throw new ConfigurationError('`kind` is required (e.g. "image-embeddings").', { setting: 'kind' });
    validateSpec(options.tensors);
    await mkdir(dir, { recursive: true });
    const manifestPath = join(dir, SHARD_MANIFEST_FILE);
    let existing: EmbeddingShardManifest | undefined;
    if (await exists(manifestPath)) {
      if (options.resume === false) await clearStore(dir);
      else existing = await readJson(manifestPath, EmbeddingShardManifestSchema);
    }
    const tensors = Object.fromEntries(
      Object.entries(options.tensors).map(([k, v]) => [k, { dtype: v.dtype, shape: [...v.shape] }]),
    );
    const ids = new Set<string>();
    let manifest: EmbeddingShardManifest;
    if (existing) {
      if (existing.kind !== options.kind || !sameSpec(existing.tensors, tensors)) {
        throw new ConfigurationError(
          `${manifestPath} holds a different store (kind "${existing.kind}", tensors ${JSON.stringify(existing.tensors)}) than requested (kind "${options.kind}", tensors ${JSON.stringify(tensors)}). Use another directory, or pass resume: false to replace it.`,
          { setting: 'tensors' },
        );
      }
      const files = await shardPaths(dir, existing, manifestPath);
      for (const [k, shard] of existing.shards.entries()) {
        const file = files[k];
        const header = await readSafetensorsHeader(file);
        for (const id of parseIds(header.metadata, file, shard.count)) ids.add(id);
      }
      manifest = { ...existing, complete: false, meta: { ...existing.meta, ...options.meta } };
    } else {
      manifest = {
        format: 'synth2-shards',
        version: 1,
        kind: options.kind,
        tensors,
        shards: [],
        total: 0,
        complete: false,
        meta: { ...options.meta },
      };
    }
    await removeStrays(dir, manifest);
    const writer = new ShardedTensorWriter(dir, manifest, shardSize, ids);
    await writer.writeManifest();
    return writer;
  }

  /** A copy of the current manifest (committed shards only). */
  get manifest(): EmbeddingShardManifest {
    return structuredClone(this.manifestValue);
  }

  /** Items in complete shards on disk. */
  get committed(): number {
    return this.manifestValue.total;
  }

  /** Items appended so far, committed or pending. */
  get size(): number {
    return this.manifestValue.total + this.pendingIds.length;
  }

  /** Whether an item with this id was appended (committed or pending). */
  has(id: string): boolean {
    return this.idSet.has(id);
  }

  /**
   * Appends items: `ids[k]` and, for every tensor, `ids.length` rows of its per-item shape, flattened row-major.
   * Everything is checked before anything is buffered.
   */
  async append(ids: readonly string[], tensors: Record<string, ArrayLike<number>>): Promise<void> {
    if (this.closed) throw new Error(`ShardedTensorWriter for ${this.dir} is closed`);
    const n = ids.length;
    const seen = new Set<string>();
    for (const id of ids) {
      if (typeof id !== 'string' || id === '')
        throw new InvalidInputError(`ids must be non-empty strings, got ${JSON.stringify(id)}.`, {
          field: 'ids',
        });
      if (this.idSet.has(id) || seen.has(id)) {
        throw new InvalidInputError(
          `duplicate id "${id}": it is already in the store. Skip items with writer.has(id) when resuming.`,
          {
            field: 'ids',
          },
        );
      }
      seen.add(id);
    }
    const specs = this.manifestValue.tensors;
    for (const name of Object.keys(tensors)) {
      if (!specs[name])
        throw new InvalidInputError(
          `unknown tensor "${name}"; the store has ${Object.keys(specs).join(', ')}.`,
          { field: name },
        );
    }
    for (const [name, spec] of Object.entries(specs)) {
      const data = tensors[name];
      if (data == null)
        throw new InvalidInputError(`tensor "${name}" is missing from the appended items.`, { field: name });
      const want = n * itemSize(spec.shape);
      if (data.length !== want) {
        throw new InvalidInputError(
          `expected ${n} items × [${spec.shape.join(', ')}] = ${want} values, got ${data.length}.`,
          { field: name },
        );
      }
      const range = INT_RANGE[spec.dtype];
      if (
        range &&
        !(
          data instanceof
          (spec.dtype === 'I32' ? Int32Array : spec.dtype === 'U16' ? Uint16Array : Uint8Array)
        )
      ) {
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
            throw new InvalidInputError(`value ${v} at index ${i} does not fit ${spec.dtype}.`, {
              field: name,
            });
          }
        }
      }
    }
    let done = 0;
    while (done < n) {
      const room = this.shardSize - this.pendingIds.length;
      const take = Math.min(room, n - done);
      for (const [name, spec] of Object.entries(specs)) {
        const size = itemSize(spec.shape);
        const src = tensors[name];
        const dst = this.pending[name];
        const from = done * size;
        const to = this.pendingIds.length * size;
        if (ArrayBuffer.isView(src))
          dst.set((src as unknown as TensorData).subarray(from, from + take * size), to);
        else for (let i = 0; i < take * size; i++) dst[to + i] = src[from + i];
      }
      for (let k = 0; k < take; k++) {
        this.pendingIds.push(ids[done + k]);
        this.idSet.add(ids[done + k]);
      }
      done += take;
      if (this.pendingIds.length === this.shardSize) await this.flush();
    }
  }

  /** Writes pending items as a shard now (possibly shorter than `shardSize`) and updates the manifest. */
  async flush(): Promise<void> {
    const count = this.pendingIds.length;
    if (count === 0) return;
    const m = this.manifestValue;
    const index = m.shards.length;
    const file = shardFileName(index);
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, spec] of Object.entries(m.tensors)) {
      tensors[name] = {
        dtype: spec.dtype,
        shape: [count, ...spec.shape],
        data: this.pending[name].subarray(0, count * itemSize(spec.shape)),
      };
    }
    const chunks = serializeSafetensors(tensors, { [IDS_KEY]: JSON.stringify(this.pendingIds) }, { file });
    const hash = createHash('sha256');
    let bytes = 0;
    for (const c of chunks) {
      hash.update(c);
      bytes += c.byteLength;
    }
    await writeFileAtomic(join(this.dir, file), chunks);
    m.shards.push({ file, count, start: m.total, bytes, sha256: hash.digest('hex') });
    m.total += count;
    this.pendingIds = [];
    await this.writeManifest();
  }

  /** Flushes the last items, marks the store complete and returns the final manifest. */
  async close(meta?: Record<string, unknown>): Promise<EmbeddingShardManifest> {
    if (!this.closed) {
      await this.flush();
      this.closed = true;
      this.manifestValue.complete = true;
      if (meta) this.manifestValue.meta = { ...this.manifestValue.meta, ...meta };
      await this.writeManifest();
    }
    return this.manifest;
  }

  private async writeManifest(): Promise<void> {
    await writeJsonAtomic(join(this.dir, SHARD_MANIFEST_FILE), this.manifestValue);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Deletes the files of a store (manifest, shards, temporaries) but nothing else in the directory. */
async function clearStore(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (
      name === SHARD_MANIFEST_FILE ||
      SHARD_RE.test(name) ||
      /^\.(shard-\d+\.safetensors|manifest\.json)\..*\.tmp$/.test(name)
    ) {
      await rm(join(dir, name), { force: true });
    }
  }
}

/** Removes shard files the manifest does not list (a crash after the shard rename, before the manifest) and temporaries. */
async function removeStrays(dir: string, manifest: EmbeddingShardManifest): Promise<void> {
  const listed = new Set(manifest.shards.map((s) => s.file));
  for (const name of await readdir(dir)) {
    const stray =
      (SHARD_RE.test(name) && !listed.has(name)) ||
      /^\.(shard-\d+\.safetensors|manifest\.json)\..*\.tmp$/.test(name);
    if (stray) await rm(join(dir, name), { force: true });
  }
}

/** Each listed shard's path, resolved inside the store: a `file` that leads outside it is refused. */
async function shardPaths(
  dir: string,
  manifest: EmbeddingShardManifest,
  manifestPath: string,
): Promise<string[]> {
  const paths = createPathResolver(dir);
  return Promise.all(
    manifest.shards.map((s, k) => paths.resolve(s.file, { file: manifestPath, field: `shards[${k}].file` })),
  );
}

const SHA256_RE = /^[0-9a-f]{64}$/;
const REDO = 'Regenerate the store (rerun the stage that wrote it) or restore the file from a good copy.';

/** Refuses a shard entry whose sha256 is missing, malformed or zeroed: such a shard cannot be verified. */
function checkRecordedHash(entry: ShardEntry, file: string, manifestPath: string): string {
  const sha = entry.sha256;
  if (sha === undefined || !SHA256_RE.test(sha) || /^0+$/.test(sha)) {
    const got = sha === undefined ? 'none' : JSON.stringify(sha);
    throw new InvalidInputError(
      `the manifest's sha256 for shard ${entry.file} (${file}) is ${sha === undefined ? 'missing' : 'malformed or zeroed'} (got ${got}): the shard cannot be verified. ${REDO} Pass verify: false only to read it unverified.`,
      { file: manifestPath, field: 'sha256' },
    );
  }
  return sha;
}

/** Compares a shard's size and sha256 with what the manifest recorded. */
function checkShardDigest(entry: ShardEntry, file: string, got: { sha256: string; bytes: number }): void {
  if (entry.bytes !== undefined && got.bytes !== entry.bytes) {
    throw new InvalidInputError(
      `shard ${entry.file} has ${got.bytes} bytes, the manifest recorded ${entry.bytes}: it was truncated or replaced. ${REDO}`,
      { file },
    );
  }
  if (got.sha256 !== entry.sha256) {
    throw new InvalidInputError(
      `sha256 mismatch for shard ${entry.file}: the file changed after it was written (corrupt or tampered; the manifest recorded ${entry.sha256}, the file hashes to ${got.sha256}). ${REDO}`,
      { file },
    );
  }
}

function parseIds(metadata: Record<string, string>, file: string, count: number): string[] {
  let ids: unknown;
  try {
    ids = JSON.parse(metadata[IDS_KEY] ?? 'null');
  } catch {
    ids = null;
  }
  if (!Array.isArray(ids) || ids.length !== count || !ids.every((x) => typeof x === 'string')) {
    throw new InvalidInputError(
      `shard has no valid "${IDS_KEY}" metadata for its ${count} items: it was not written by ShardedTensorWriter or is corrupt. Regenerate the store.`,
      { file },
    );
  }
  return ids as string[];
}

/** One shard's items. */
export interface ShardData {
  index: number;
  /** Index of the shard's first item in the store. */
  start: number;
  ids: string[];
  /** Each tensor with a leading item dimension (`[count, ...shape]`); F16 tensors come as Float32. */
  tensors: Record<string, SafetensorsTensor>;
}

/** One item: its id and a row of every tensor (views into the shard's arrays). */
export interface ShardItem {
  index: number;
  id: string;
  tensors: Record<string, TensorData>;
}

/** Options of `ShardedTensorReader.open`. */
export interface ShardedTensorReaderOptions {
  /**
   * Throw unless the producer finished (`complete: true`). Default true; pass false to read the committed part of a
   * store that is still being written.
   */
  requireComplete?: boolean;
  /**
   * Check each shard against the manifest (size and sha256) the first time this reader reads it from disk, and
   * refuse at open a manifest whose sha256 entries are missing, malformed or zeroed. Default true. The check hashes
   * bytes already in memory, once per shard per reader; pass false only to read a store you verified yourself.
   */
  verify?: boolean;
  /** How many decoded shards `read(i)` keeps for random access (least recently used dropped; default 2). */
  cacheShards?: number;
}

/** What `verify()` checked. */
export interface ShardedStoreVerification {
  shards: number;
  items: number;
  bytes: number;
}

/**
 * Reads a sharded store written by `ShardedTensorWriter`: by item, by shard, or all at once. By default only a
 * complete store opens and each shard is checked against the manifest's sha256 the first time it is read; `verify()`
 * checks them all up front by streaming the files.
 */
export class ShardedTensorReader {
  /** Recently read shards, most recent last. */
  private cache: ShardData[] = [];
  /** Shards whose sha256 this reader has checked (each is hashed the first time it is read from disk). */
  private verified = new Set<number>();

  private constructor(
    readonly dir: string,
    readonly manifest: EmbeddingShardManifest,
    private readonly files: readonly string[],
    private readonly options: ShardedTensorReaderOptions,
  ) {}

  static async open(dir: string, options: ShardedTensorReaderOptions = {}): Promise<ShardedTensorReader> {
    const manifestPath = join(dir, SHARD_MANIFEST_FILE);
    if (!(await exists(manifestPath))) {
      throw new InvalidInputError(
        `no ${SHARD_MANIFEST_FILE} here: not a sharded tensor store (or its producer never started). Check the path.`,
        {
          file: dir,
        },
      );
    }
    const manifest = await readJson(manifestPath, EmbeddingShardManifestSchema);
    if ((options.requireComplete ?? true) && !manifest.complete) {
      throw new InvalidInputError(
        `the store is incomplete (complete: false, ${manifest.total} items so far): its producer did not finish. Rerun that stage to resume it, or pass requireComplete: false to read the committed part.`,
        { file: manifestPath },
      );
    }
    let start = 0;
    for (const s of manifest.shards) {
      if (s.start !== start)
        throw new InvalidInputError(
          `shard ${s.file} starts at ${s.start}, expected ${start}. The manifest is corrupt.`,
          { file: manifestPath },
        );
      start += s.count;
    }
    if (start !== manifest.total)
      throw new InvalidInputError(`total ${manifest.total} does not match the shards' ${start} items.`, {
        file: manifestPath,
        field: 'total',
      });
    const files = await shardPaths(dir, manifest, manifestPath);
    if (options.verify ?? true)
      manifest.shards.forEach((s, k) => checkRecordedHash(s, files[k], manifestPath));
    return new ShardedTensorReader(dir, manifest, files, options);
  }

  /** Number of items. */
  get length(): number {
    return this.manifest.total;
  }

  get numShards(): number {
    return this.manifest.shards.length;
  }

  /**
   * Streams every shard from disk and checks its size and sha256 against the manifest (whatever the `verify`
   * option); throws an `InvalidInputError` naming the first shard that differs. Reads each file once with constant
   * memory.
   */
  async verify(options: { abortSignal?: AbortSignal } = {}): Promise<ShardedStoreVerification> {
    const manifestPath = join(this.dir, SHARD_MANIFEST_FILE);
    let bytes = 0;
    for (const [k, entry] of this.manifest.shards.entries()) {
      const file = this.files[k];
      checkRecordedHash(entry, file, manifestPath);
      const got = await sha256File(file, options).catch((error) => {
        throw InvalidInputError.isInstance(error) && !options.abortSignal?.aborted
          ? fileError(file, error.cause ?? error, 'shard file listed in the manifest')
          : error;
      });
      checkShardDigest(entry, file, got);
      bytes += got.bytes;
    }
    return { shards: this.numShards, items: this.length, bytes };
  }

  /** Every item's id, in store order (reads only the shards' headers, which `verify` does not check: call `verify()` first). */
  async ids(): Promise<string[]> {
    const out: string[] = [];
    for (const [k, s] of this.manifest.shards.entries()) {
      const file = this.files[k];
      out.push(...parseIds((await readSafetensorsHeader(file)).metadata, file, s.count));
    }
    return out;
  }

  /** Reads one shard. */
  async readShard(index: number): Promise<ShardData> {
    const hit = this.cache.findIndex((c) => c.index === index);
    if (hit >= 0) {
      const shard = this.cache[hit];
      this.cache.splice(hit, 1);
      this.cache.push(shard);
      return shard;
    }
    const entry = this.manifest.shards[index];
    if (!entry) throw new RangeError(`shard ${index} out of range [0, ${this.manifest.shards.length})`);
    const file = this.files[index];
    let buffer: Buffer;
    try {
      buffer = await readFile(file);
    } catch (error) {
      throw fileError(file, error, 'shard file listed in the manifest');
    }
    if ((this.options.verify ?? true) && !this.verified.has(index)) {
      checkShardDigest(entry, file, {
        sha256: createHash('sha256').update(buffer).digest('hex'),
        bytes: buffer.byteLength,
      });
      this.verified.add(index);
    }
    const parsed = parseSafetensors(buffer, { file });
    for (const [name, spec] of Object.entries(this.manifest.tensors)) {
      const t = parsed.tensors[name];
      const want = [entry.count, ...spec.shape];
      if (!t || t.dtype !== spec.dtype || t.shape.join(',') !== want.join(',')) {
        throw new InvalidInputError(
          `expected ${spec.dtype} [${want.join(', ')}] as in the manifest, found ${t ? `${t.dtype} [${t.shape.join(', ')}]` : 'nothing'}. The store is corrupt.`,
          { file, field: name },
        );
      }
    }
    const shard: ShardData = {
      index,
      start: entry.start,
      ids: parseIds(parsed.metadata, file, entry.count),
      tensors: parsed.tensors,
    };
    this.cache.push(shard);
    while (this.cache.length > Math.max(0, this.options.cacheShards ?? 2)) this.cache.shift();
    return shard;
  }

  /** Reads item `i` (0-based, store order). Consecutive reads from one shard reuse it. */
  async read(i: number): Promise<ShardItem> {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new RangeError(`item ${i} out of range [0, ${this.length})`);
    const shards = this.manifest.shards;
    let lo = 0;
    let hi = shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (shards[mid].start <= i) lo = mid;
      else hi = mid - 1;
    }
    const shard = await this.readShard(lo);
    const k = i - shard.start;
    const tensors: Record<string, TensorData> = {};
    for (const [name, spec] of Object.entries(this.manifest.tensors)) {
      const size = itemSize(spec.shape);
      tensors[name] = shard.tensors[name].data.subarray(k * size, (k + 1) * size);
    }
    return { index: i, id: shard.ids[k], tensors };
  }

  /** Iterates the shards in order. */
  async *shards(): AsyncGenerator<ShardData> {
    for (let s = 0; s < this.numShards; s++) yield await this.readShard(s);
  }

  [Symbol.asyncIterator](): AsyncGenerator<ShardData> {
    return this.shards();
  }

  /** Loads the whole store: ids and each tensor as one typed array `[total, ...shape]` (F16 as Float32). */
  async loadAll(): Promise<{ ids: string[]; tensors: Record<string, SafetensorsTensor> }> {
    const ids: string[] = [];
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const [name, spec] of Object.entries(this.manifest.tensors)) {
      tensors[name] = {
        dtype: spec.dtype,
        shape: [this.length, ...spec.shape],
        data: allocate(spec.dtype, this.length * itemSize(spec.shape)),
      };
    }
    for await (const shard of this.shards()) {
      ids.push(...shard.ids);
      for (const [name, spec] of Object.entries(this.manifest.tensors)) {
        tensors[name].data.set(shard.tensors[name].data as never, shard.start * itemSize(spec.shape));
      }
    }
    this.cache = [];
    return { ids, tensors };
  }
}

/** Options of `verifyShardedStore`. */
export interface VerifyShardedStoreOptions {
  /** Refuse a store whose producer did not finish (`complete: false`). Default true. */
  requireComplete?: boolean;
  abortSignal?: AbortSignal;
}

/**
 * Checks a sharded store on disk without decoding it: the manifest is valid and (by default) complete, every shard
 * `file` stays inside the store, and every shard has the size and sha256 the manifest recorded (streamed, constant
 * memory). Returns the manifest and what was checked; throws an `InvalidInputError` naming the first bad file and
 * what to do.
 */
export async function verifyShardedStore(
  dir: string,
  options: VerifyShardedStoreOptions = {},
): Promise<ShardedStoreVerification & { manifest: EmbeddingShardManifest }> {
  const reader = await ShardedTensorReader.open(dir, { requireComplete: options.requireComplete ?? true });
  const checked = await reader.verify({ abortSignal: options.abortSignal });
  return { ...checked, manifest: reader.manifest };
}
