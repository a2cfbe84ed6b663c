import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { InvalidInputError } from '../errors';
import { fileError } from '../internal/file-error';
import { lineColumn, locateJsonError } from '../internal/json-position';
import { parseWithSchema } from '../internal/schema-parse';

/**
 * Parses JSON text; a syntax error becomes an `InvalidInputError` that gives the line and column (and `file` when
 * given) of the first invalid character.
 */
export function parseJsonText(text: string, where: { file?: string; line?: number } = {}): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const { offset, reason } = locateJsonError(text);
    const pos = lineColumn(text, offset);
    const line = where.line != null ? where.line + pos.line - 1 : pos.line;
    throw new InvalidInputError(
      `malformed JSON at column ${pos.column}: ${reason}. Fix or regenerate the file.`,
      {
        file: where.file,
        line,
        cause: error,
      },
    );
  }
}

/** Reads a JSON file and validates it with `schema`; errors name the file and the line/field that is wrong. */
export async function readJson<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>>;
export async function readJson(file: string): Promise<unknown>;
export async function readJson(file: string, schema?: z.ZodType): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw fileError(file, error, 'JSON file');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const value = parseJsonText(text, { file });
  return schema ? parseWithSchema(schema, value, { file }) : value;
}
