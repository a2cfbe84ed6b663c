import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InvalidInputError, parseJsonText } from '@synth2/core/internal';

/** Reads a JSON file, gunzipping it first when it is gzip-compressed (by content, whatever its name). */
export async function readJsonFile(file: string): Promise<unknown> {
  return readJsonFileTimed(file, {});
}

/** `readJsonFile` that adds the milliseconds it spent reading, decompressing and parsing to `timings`. */
export async function readJsonFileTimed(file: string, timings: Record<string, number>): Promise<unknown> {
  let t = performance.now();
  const lap = (name: string): void => {
    const now = performance.now();
    timings[name] = (timings[name] ?? 0) + now - t;
    t = now;
  };
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidInputError(
      code === 'ENOENT' ? 'file not found; check the path.' : `cannot read the file (${code ?? String(error)}).`,
      { file, cause: error },
    );
  }
  lap('read');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new InvalidInputError('the file looks gzip-compressed but cannot be decompressed (truncated or corrupt?).', { file, cause: error });
    }
  }
  let text = bytes.toString('utf8');
  lap('decompress');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const value = parseJsonText(text, { file });
  lap('parse');
  return value;
}
