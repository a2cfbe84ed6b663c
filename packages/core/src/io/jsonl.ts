import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { InvalidInputError, Synth2Error, throwIfAborted } from '../errors';
import { fileError } from '../internal/file-error';
import { parseWithSchema } from '../internal/schema-parse';
import { fsyncDir, tempPathFor, writeFileAtomic } from './atomic-write';
import { parseJsonText } from './json';

/** Options of `readJsonl` and `readJsonlAll`. */
export interface ReadJsonlOptions {
  /** Stops the work with an `AbortedError` (the option name every Synth² package uses). */
  abortSignal?: AbortSignal;
  /** @deprecated Use `abortSignal` (still honoured in this release). */
  signal?: AbortSignal;
  /**
   * Skip a malformed last line that has no trailing newline (a write cut short by a crash) instead of throwing.
   * Default false.
   */
  allowIncompleteLastLine?: boolean;
}

interface RawLine {
  text: string;
  line: number;
  terminated: boolean;
}

async function* rawLines(file: string, signal?: AbortSignal): AsyncGenerator<RawLine> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let line = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      throwIfAborted(signal);
      let text = rest + chunk;
      if (line === 0 && rest === '' && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        line++;
        let end = nl;
        if (end > start && text.charCodeAt(end - 1) === 13) end--;
        yield { text: text.slice(start, end), line, terminated: true };
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (error) {
    if (!Synth2Error.isInstance(error) && (error as NodeJS.ErrnoException)?.code) {
      throw fileError(file, error, 'JSONL file');
    }
    throw error;
  } finally {
    stream.destroy();
  }
  if (rest.length > 0) {
    line++;
    yield { text: rest.endsWith('\r') ? rest.slice(0, -1) : rest, line, terminated: false };
  }
}

/**
 * Streams the records of a JSONL file, one JSON value per line (blank lines are skipped), each validated with
 * `schema`. Malformed JSON and schema violations throw an `InvalidInputError` naming the file, the line and the field.
 */
export function readJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options?: ReadJsonlOptions,
): AsyncGenerator<z.output<S>>;
export function readJsonl(
  file: string,
  schema?: undefined,
  options?: ReadJsonlOptions,
): AsyncGenerator<unknown>;
export async function* readJsonl(
  file: string,
  schema?: z.ZodType,
  options: ReadJsonlOptions = {},
): AsyncGenerator<unknown> {
  for await (const raw of rawLines(file, options.abortSignal ?? options.signal)) {
    if (raw.text.trim() === '') continue;
    let value: unknown;
    try {
      value = parseJsonText(raw.text, { file, line: raw.line });
    } catch (error) {
      if (!raw.terminated && options.allowIncompleteLastLine) return;
      if (!raw.terminated && InvalidInputError.isInstance(error)) {
        throw new InvalidInputError(
          `the last line is incomplete (no newline; the writer was probably interrupted): ${error.message}`,
          { file, line: raw.line, cause: error },
        );
      }
      throw error;
    }
    yield schema ? parseWithSchema(schema, value, { file, line: raw.line }) : value;
  }
}

/** Reads a whole JSONL file into an array (see `readJsonl`). */
export async function readJsonlAll<S extends z.ZodType>(
  file: string,
  schema: S,
  options?: ReadJsonlOptions,
): Promise<z.output<S>[]>;
export async function readJsonlAll(
  file: string,
  schema?: undefined,
  options?: ReadJsonlOptions,
): Promise<unknown[]>;
export async function readJsonlAll(
  file: string,
  schema?: z.ZodType,
  options?: ReadJsonlOptions,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of readJsonl(file, schema as z.ZodType, options)) out.push(record);
  return out;
}

function serialise(record: unknown, file: string, index: number): string {
  const text = JSON.stringify(record);
  if (text === undefined) {
    throw new InvalidInputError(
      `record ${index} is not JSON-serialisable (${typeof record}). Pass plain objects.`,
      {
        file,
      },
    );
  }
  return text;
}

/** Options of `JsonlWriter.open`. */
export interface JsonlWriterOptions<S extends z.ZodType | undefined = undefined> {
  /**
   * Append to an existing file (for resumable runs): records go straight to the file; a torn last line left by a
   * crash is cut off first. Default false: records go to a temporary file that replaces `file` on `close()`.
   */
  append?: boolean;
  /** Validate (and normalise: defaults applied) every record before it is written. */
  schema?: S;
  /** fsync on close (default true). */
  fsync?: boolean;
  /** Buffered characters before a write to the file (default 64 KiB). */
  bufferSize?: number;
}

type RecordOf<S> = S extends z.ZodType ? z.input<S> : unknown;

/** Writes JSONL records: atomically (temp + rename on close) or in append mode for resumable runs. */
export class JsonlWriter<S extends z.ZodType | undefined = undefined> {
  private buffer: string[] = [];
  private buffered = 0;
  private written = 0;
  private closed = false;

  private constructor(
    readonly file: string,
    private readonly target: string,
    private handle: Awaited<ReturnType<typeof open>>,
    private readonly options: JsonlWriterOptions<S>,
    /** Bytes of a torn last line removed when the file was opened in append mode. */
    readonly repairedBytes: number,
  ) {}

  static async open<S extends z.ZodType | undefined = undefined>(
    file: string,
    options: JsonlWriterOptions<S> = {},
  ): Promise<JsonlWriter<S>> {
    await mkdir(dirname(file), { recursive: true });
    if (options.append) {
      const repaired = await repairTornTail(file);
      const handle = await open(file, 'a');
      return new JsonlWriter(file, file, handle, options, repaired);
    }
    const tmp = tempPathFor(file);
    const handle = await open(tmp, 'wx');
    return new JsonlWriter(file, tmp, handle, options, 0);
  }

  /** Records written so far by this writer. */
  get count(): number {
    return this.written;
  }

  /** Validates and buffers one record; throws `InvalidInputError` (nothing written) if it does not fit the schema. */
  async write(record: RecordOf<S>): Promise<void> {
    if (this.closed) throw new Error(`JsonlWriter for ${this.file} is closed`);
    const value = this.options.schema
      ? parseWithSchema(this.options.schema, record, { file: this.file, field: `record ${this.written}` })
      : record;
    const text = serialise(value, this.file, this.written) + '\n';
    this.buffer.push(text);
    this.buffered += text.length;
    this.written++;
    if (this.buffered >= (this.options.bufferSize ?? 1 << 16)) await this.flush();
  }

  async writeMany(records: Iterable<RecordOf<S>> | AsyncIterable<RecordOf<S>>): Promise<void> {
    for await (const record of records as AsyncIterable<RecordOf<S>>) await this.write(record);
  }

  /** Writes buffered records to the file; with `sync`, also fsyncs (a durable resume point). */
  async flush(sync = false): Promise<void> {
    if (this.buffer.length > 0) {
      const data = this.buffer.join('');
      this.buffer = [];
      this.buffered = 0;
      await this.handle.write(data, null, 'utf8');
    }
    if (sync) await this.handle.sync();
  }

  /** Flushes, fsyncs and closes; in replace mode renames the temporary file over the target. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush(this.options.fsync !== false);
    } catch (error) {
      await this.abort();
      throw error;
    }
    this.closed = true;
    await this.handle.close();
    if (this.target !== this.file) {
      await rename(this.target, this.file);
      if (this.options.fsync !== false) await fsyncDir(dirname(this.file));
    }
  }

  /** Stops without committing: in replace mode the temporary file is removed and `file` is untouched. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer = [];
    await this.handle.close().catch(() => undefined);
    if (this.target !== this.file) await rm(this.target, { force: true });
  }
}

/** Cuts a file back to its last newline (a crash mid-append leaves a torn line). Returns bytes removed. */
async function repairTornTail(file: string): Promise<number> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  if (size === 0) return 0;
  const handle = await open(file, 'r+');
  try {
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await handle.read(block, 0, end - start, start);
      for (let k = bytesRead - 1; k >= 0; k--) {
        if (block[k] === 10) {
          const keep = start + k + 1;
          if (keep !== size) await handle.truncate(keep);
          return size - keep;
        }
      }
      end = start;
    }
    await handle.truncate(0);
    return size;
  } finally {
    await handle.close();
  }
}

function validateAll(records: readonly unknown[], schema: z.ZodType | undefined, file: string): unknown[] {
  return records.map((r, i) => (schema ? parseWithSchema(schema, r, { file, field: `record ${i}` }) : r));
}

/**
 * Appends records to a JSONL file (created if missing). All records are validated first: if one is invalid
 * nothing is written.
 */
export async function appendJsonl<S extends z.ZodType | undefined = undefined>(
  file: string,
  records: readonly RecordOf<S>[],
  options: { schema?: S; fsync?: boolean } = {},
): Promise<void> {
  const values = validateAll(records, options.schema, file);
  values.forEach((v, i) => serialise(v, file, i));
  const writer = await JsonlWriter.open(file, { append: true, fsync: options.fsync, bufferSize: Infinity });
  try {
    await writer.writeMany(values);
  } finally {
    await writer.close();
  }
}

/** Writes records as a whole JSONL file atomically (validated first; nothing written on invalid input). */
export async function writeJsonl<S extends z.ZodType | undefined = undefined>(
  file: string,
  records: readonly RecordOf<S>[],
  options: { schema?: S; fsync?: boolean } = {},
): Promise<void> {
  const values = validateAll(records, options.schema, file);
  const text = values.map((v, i) => serialise(v, file, i) + '\n').join('');
  await writeFileAtomic(file, text, { fsync: options.fsync });
}
