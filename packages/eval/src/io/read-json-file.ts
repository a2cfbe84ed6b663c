import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InvalidInputError } from '@synth2/core';

/** Offset of the first JSON syntax error in `text` and why (a small validating scanner; JSON.parse says less). */
export function locateJsonSyntaxError(text: string): { offset: number; reason: string } {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  class Fail extends Error {
    constructor(readonly reason: string) {
      super(reason);
    }
  }
  const fail = (reason: string): never => {
    throw new Fail(reason);
  };
  const describe = (): string => (i >= n ? 'unexpected end of file' : `unexpected character ${JSON.stringify(text[i])}`);
  const str = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            fail('invalid \\u escape in a string');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          fail('invalid escape in a string');
        }
      } else if (c < 32) fail('control character (e.g. a raw newline) inside a string');
      else i++;
    }
    fail('unterminated string');
  };
  const num = (): void => {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = i;
    if (!m.test(text)) fail(describe());
    i = m.lastIndex;
  };
  const value = (depth: number): void => {
    ws();
    if (i >= n) fail('unexpected end of file');
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${i >= n ? 'end of file' : JSON.stringify(text[i])}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after a property name, ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' in an object, ${describe()}`);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' in an array, ${describe()}`);
      }
    } else if (c === '"') str();
    else if (c === '-' || (c >= '0' && c <= '9')) num();
    else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else fail(describe());
  };
  try {
    value(0);
    ws();
    if (i < n) fail(`unexpected content after the JSON value: ${JSON.stringify(text[i])}`);
    return { offset: -1, reason: 'no syntax error found' };
  } catch (error) {
    if (error instanceof Fail) return { offset: Math.min(i, n), reason: error.reason };
    throw error;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Parses JSON text; a syntax error becomes an `InvalidInputError` with the line and column of the problem. */
export function parseJsonWithPosition(text: string, file?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const { offset, reason } = locateJsonSyntaxError(text);
    const { line, column } = lineColumn(text, offset < 0 ? text.length : offset);
    throw new InvalidInputError(`malformed JSON at line ${line}, column ${column}: ${reason}. Fix the file (is it truncated?) and run again.`, {
      file,
      cause: error,
    });
  }
}

/** Reads a JSON file, gunzipping it first when it is gzip-compressed (by content, whatever its name). */
export async function readJsonFile(file: string): Promise<unknown> {
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
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new InvalidInputError('the file looks gzip-compressed but cannot be decompressed (truncated or corrupt?).', { file, cause: error });
    }
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseJsonWithPosition(text, file);
}
