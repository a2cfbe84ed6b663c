import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { fileError } from '../internal/file-error';
import { parseWithSchema } from '../internal/schema-parse';
import { parseJsonText } from './json-text';

export { parseJsonText } from './json-text';

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
