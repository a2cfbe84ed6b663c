import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaptionRecordSchema, type CaptionRecordInput } from '../schemas';
import { AbortedError, InvalidInputError } from '../errors';
import { makeTmpDir } from '../test/tmp-dir';
import { JsonlWriter, appendJsonl, readJsonl, readJsonlAll, writeJsonl } from './jsonl';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

const rec = (i: number): CaptionRecordInput => ({
  id: `c${i}`,
  text: `a red circle number ${i}`,
  source: 'synthetic',
});

describe('readJsonl', () => {
  it('should stream validated records, skipping blank lines and handling CRLF', async () => {
    const file = join(dir, 'c.jsonl');
    await writeFile(file, `${JSON.stringify(rec(1))}\r\n\n${JSON.stringify(rec(2))}\n`);
    const out = [];
    for await (const r of readJsonl(file, CaptionRecordSchema)) out.push(r);
    expect(out.map((r) => r.id)).toEqual(['c1', 'c2']);
    expect(out[0].concepts).toEqual([]); // schema default applied
  });

  it('should read many records across stream chunks', async () => {
    const file = join(dir, 'big.jsonl');
    const lines = Array.from({ length: 20000 }, (_, i) =>
      JSON.stringify({ ...rec(i), text: 'ü'.repeat((i % 50) + 1) }),
    );
    await writeFile(file, lines.join('\n'));
    const all = await readJsonlAll(file, CaptionRecordSchema);
    expect(all.length).toBe(20000);
    expect(all[19999].text).toBe('ü'.repeat((19999 % 50) + 1));
  });

  it('should name file and line of a malformed JSON line', async () => {
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, `${JSON.stringify(rec(1))}\n{"id": "c2", "text": }\n`);
    const error = await readJsonlAll(file, CaptionRecordSchema).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.file).toBe(file);
    expect(error.line).toBe(2);
    expect(error.message).toContain(`${file}:2`);
    expect(error.message).toMatch(/malformed JSON/);
  });

  it('should name file, line and field of a wrong-typed field', async () => {
    const file = join(dir, 'wrong.jsonl');
    await writeFile(
      file,
      [rec(1), { ...rec(2), concepts: ['ok', 7] }].map((r) => JSON.stringify(r)).join('\n'),
    );
    const error = await readJsonlAll(file, CaptionRecordSchema).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.line).toBe(2);
    expect(error.field).toBe('concepts.1');
    expect(error.message).toMatch(/wrong\.jsonl:2, field "concepts\.1": .*expected string/);
  });

  it('should name a missing required field', async () => {
    const file = join(dir, 'missing.jsonl');
    await writeFile(file, JSON.stringify({ id: 'x', text: 'hi' }) + '\n');
    await expect(readJsonlAll(file, CaptionRecordSchema)).rejects.toThrow(/missing\.jsonl:1, field "source"/);
  });

  it('should report an incomplete last line, or skip it when allowed', async () => {
    const file = join(dir, 'torn.jsonl');
    await writeFile(file, `${JSON.stringify(rec(1))}\n{"id": "c2", "te`);
    await expect(readJsonlAll(file, CaptionRecordSchema)).rejects.toThrow(
      /torn\.jsonl:2: the last line is incomplete/,
    );
    const ok = await readJsonlAll(file, CaptionRecordSchema, { allowIncompleteLastLine: true });
    expect(ok.map((r) => r.id)).toEqual(['c1']);
  });

  it('should say when the file does not exist', async () => {
    await expect(readJsonlAll(join(dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: JSONL file not found/);
  });

  it('should stop when the abort signal fires', async () => {
    const file = join(dir, 'a.jsonl');
    await writeFile(file, JSON.stringify(rec(1)) + '\n');
    const ac = new AbortController();
    ac.abort();
    const error = await readJsonlAll(file, undefined, { abortSignal: ac.signal }).catch((e) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
    // the deprecated name still works for one release
    const legacy = await readJsonlAll(file, undefined, { signal: ac.signal }).catch((e) => e);
    expect(AbortedError.isInstance(legacy)).toBe(true);
  });
});

describe('JsonlWriter', () => {
  it('should write atomically: nothing visible until close, then the whole file', async () => {
    const file = join(dir, 'out.jsonl');
    const w = await JsonlWriter.open(file, { schema: CaptionRecordSchema, bufferSize: 10 });
    for (let i = 0; i < 5; i++) await w.write(rec(i));
    expect(await readdir(dir)).not.toContain('out.jsonl');
    await w.close();
    expect(w.count).toBe(5);
    const back = await readJsonlAll(file, CaptionRecordSchema);
    expect(back.map((r) => r.id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(await readdir(dir)).toEqual(['out.jsonl']);
  });

  it('should reject an invalid record with a clear error and abort leaving no file', async () => {
    const file = join(dir, 'out.jsonl');
    const w = await JsonlWriter.open(file, { schema: CaptionRecordSchema });
    await w.write(rec(0));
    const error = await w.write({ id: 'x', text: '', source: 'synthetic' }).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.field).toBe('record 1.text');
    await w.abort();
    expect(await readdir(dir)).toEqual([]);
  });

  it('should append for resumable runs and repair a torn last line', async () => {
    const file = join(dir, 'run.jsonl');
    await writeFile(file, `${JSON.stringify(rec(0))}\n${JSON.stringify(rec(1)).slice(0, 10)}`);
    const w = await JsonlWriter.open(file, { append: true, schema: CaptionRecordSchema });
    expect(w.repairedBytes).toBe(10);
    await w.write(rec(1));
    await w.flush(true);
    await w.write(rec(2));
    await w.close();
    const ids = (await readJsonlAll(file, CaptionRecordSchema)).map((r) => r.id);
    expect(ids).toEqual(['c0', 'c1', 'c2']);
  });
});

describe('appendJsonl / writeJsonl', () => {
  it('should append records to a new and an existing file', async () => {
    const file = join(dir, 'a.jsonl');
    await appendJsonl(file, [rec(0)], { schema: CaptionRecordSchema });
    await appendJsonl(file, [rec(1), rec(2)], { schema: CaptionRecordSchema });
    expect((await readJsonlAll(file, CaptionRecordSchema)).length).toBe(3);
  });

  it('should write nothing when one record is invalid', async () => {
    const file = join(dir, 'a.jsonl');
    await appendJsonl(file, [rec(0)]);
    const before = await readFile(file, 'utf8');
    await expect(
      appendJsonl(file, [rec(1), { ...rec(2), source: 'robot' } as unknown as CaptionRecordInput], {
        schema: CaptionRecordSchema,
      }),
    ).rejects.toThrow(/field "record 1\.source"/);
    expect(await readFile(file, 'utf8')).toBe(before);
    await expect(writeJsonl(join(dir, 'b.jsonl'), [{ a: 1n }])).rejects.toThrow(/BigInt|serialis/);
    expect(await readdir(dir)).toEqual(['a.jsonl']);
  });

  it('should write a whole file atomically', async () => {
    const file = join(dir, 'w.jsonl');
    await writeJsonl(file, [rec(0), rec(1)], { schema: CaptionRecordSchema });
    expect((await readJsonlAll(file)).length).toBe(2);
  });
});
