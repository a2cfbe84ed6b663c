import { readFile } from 'node:fs/promises';
import { fileError } from '../internal/file-error';
import { writeJsonAtomic } from '../io/atomic-write';

/** Reads a vocabulary file's text (Node: from the file system). */
export async function readVocabularyText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(path, error, 'vocabulary file');
  }
}

/** Writes a vocabulary's JSON atomically (Node: to the file system). */
export async function writeVocabularyJson(path: string, value: unknown): Promise<void> {
  await writeJsonAtomic(path, value, { space: 0 });
}
